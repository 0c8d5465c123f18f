package dev.gatehouse.deploy.cli;

import java.net.URI;
import java.net.URISyntaxException;
import java.net.URLDecoder;
import java.nio.charset.StandardCharsets;
import java.util.Properties;

/**
 * The scratch database {@code gatehouse replay --execute} runs against: a JDBC URL
 * ({@code jdbc:postgresql://host:port/db?...}) or a libpq URI ({@code postgresql://user:pw@host:port/db}),
 * with the user and password from the options. {@link #display()} never shows the password.
 */
record ReplayTarget(String jdbcUrl, Properties properties, String display) {

    /**
     * @param url      the {@code --target}
     * @param user     the {@code --target-user}, or null
     * @param password the value of the {@code --target-password-env} variable, or null
     * @throws IllegalArgumentException for a URL that is neither form
     */
    static ReplayTarget parse(String url, String user, String password) {
        Properties props = new Properties();
        String jdbc;
        String display;
        if (url.startsWith("jdbc:postgresql:")) {
            jdbc = url;
            display = url.replaceAll("(?i)([?&]password=)[^&]*", "$1***");
        } else if (url.startsWith("postgresql://") || url.startsWith("postgres://")) {
            URI uri;
            try {
                uri = new URI(url);
            } catch (URISyntaxException e) {
                throw new IllegalArgumentException("--target is not a valid URI: " + e.getMessage());
            }
            if (uri.getHost() == null) throw new IllegalArgumentException("--target names no host: use postgresql://host:port/db");
            String info = uri.getRawUserInfo();
            if (info != null) {
                int colon = info.indexOf(':');
                props.setProperty("user", decode(colon < 0 ? info : info.substring(0, colon)));
                if (colon >= 0) props.setProperty("password", decode(info.substring(colon + 1)));
            }
            String rest = (uri.getPort() > 0 ? ":" + uri.getPort() : "") + (uri.getRawPath() == null ? "/" : uri.getRawPath())
                    + (uri.getRawQuery() != null ? "?" + uri.getRawQuery() : "");
            jdbc = "jdbc:postgresql://" + uri.getHost() + rest;
            display = "postgresql://" + (props.getProperty("user") != null ? props.getProperty("user") + "@" : "")
                    + uri.getHost() + rest;
        } else {
            throw new IllegalArgumentException("--target must be jdbc:postgresql://host:port/db or postgresql://host:port/db, not '"
                    + url.replaceAll("//[^@/]*@", "//***@") + "'");
        }
        if (user != null) props.setProperty("user", user);
        if (password != null) props.setProperty("password", password);
        return new ReplayTarget(jdbc, props, display);
    }

    private static String decode(String s) {
        return URLDecoder.decode(s, StandardCharsets.UTF_8);
    }

    @Override
    public String toString() {
        return display;
    }
}
