package dev.gatehouse.loadtest;

import java.io.IOException;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.time.Duration;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * One scrape of a Gatehouse process's {@code /metrics} (Prometheus text format), with the few
 * look-ups the load runs need: the sum of every sample of a name whose labels include given values.
 */
public final class PrometheusText {
    /**
     * HTTP/1.1: with the client's default (HTTP/2, asked for by an h2c upgrade on plain http) one
     * scrape in a few runs never completed, its timeout notwithstanding, and the run hung there
     * (the endpoint answered curl at once, with and without the upgrade; cause not found).
     */
    private static final HttpClient HTTP = HttpClient.newBuilder().version(HttpClient.Version.HTTP_1_1)
            .connectTimeout(Duration.ofSeconds(5)).build();
    private static final Duration SCRAPE_TIMEOUT = Duration.ofSeconds(30);
    private static final int SCRAPE_TRIES = 3;
    private static final Pattern LABEL = Pattern.compile("([A-Za-z_][A-Za-z0-9_]*)=\"((?:[^\"\\\\]|\\\\.)*)\"");

    /** One sample line: name, labels, value. */
    public record Sample(String name, Map<String, String> labels, double value) {
    }

    private final List<Sample> samples;

    private PrometheusText(List<Sample> samples) {
        this.samples = List.copyOf(samples);
    }

    /**
     * GETs {@code http://127.0.0.1:PORT/metrics}: each try bounded as a whole (headers and body) by
     * {@link #SCRAPE_TIMEOUT}, {@link #SCRAPE_TRIES} tries.
     */
    public static PrometheusText scrape(int port) throws IOException, InterruptedException {
        HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/metrics"))
                .timeout(SCRAPE_TIMEOUT).GET().build();
        IOException last = null;
        for (int attempt = 1; attempt <= SCRAPE_TRIES; attempt++) {
            var pending = HTTP.sendAsync(request, HttpResponse.BodyHandlers.ofString());
            try {
                HttpResponse<String> response = pending.get(SCRAPE_TIMEOUT.toMillis(), TimeUnit.MILLISECONDS);
                if (response.statusCode() != 200) {
                    throw new IOException("/metrics on port " + port + " answered " + response.statusCode());
                }
                return parse(response.body());
            } catch (TimeoutException e) {
                pending.cancel(true);
                last = new IOException("/metrics on port " + port + " did not answer within " + SCRAPE_TIMEOUT.toSeconds() + " s");
            } catch (ExecutionException e) {
                last = e.getCause() instanceof IOException io ? io : new IOException(e.getCause());
            }
        }
        throw last;
    }

    /** Whether {@code http://127.0.0.1:PORT/health/ready} answers 200. */
    public static boolean ready(int port) {
        try {
            HttpRequest request = HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + port + "/health/ready"))
                    .timeout(Duration.ofSeconds(5)).GET().build();
            return HTTP.send(request, HttpResponse.BodyHandlers.discarding()).statusCode() == 200;
        } catch (IOException e) {
            return false;
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return false;
        }
    }

    static PrometheusText parse(String text) {
        List<Sample> samples = new ArrayList<>();
        for (String line : text.split("\n")) {
            if (line.isBlank() || line.startsWith("#")) continue;
            int brace = line.indexOf('{');
            int space = line.lastIndexOf(' ');
            if (space < 0) continue;
            String name;
            Map<String, String> labels = new LinkedHashMap<>();
            if (brace >= 0 && brace < space) {
                name = line.substring(0, brace);
                Matcher m = LABEL.matcher(line.substring(brace, line.lastIndexOf('}') + 1));
                while (m.find()) labels.put(m.group(1), m.group(2));
            } else {
                name = line.substring(0, line.indexOf(' '));
            }
            double value;
            try {
                value = Double.parseDouble(line.substring(space + 1).strip());
            } catch (NumberFormatException e) {
                continue;
            }
            samples.add(new Sample(name, labels, value));
        }
        return new PrometheusText(samples);
    }

    /** The sum of every sample named {@code name} whose labels include {@code labels} (name, value, ...); 0 if none. */
    public double sum(String name, String... labels) {
        double total = 0;
        for (Sample s : samples) {
            if (s.name().equals(name) && matches(s, labels)) total += s.value();
        }
        return total;
    }

    /** Whether any sample is named {@code name}. */
    public boolean has(String name) {
        return samples.stream().anyMatch(s -> s.name().equals(name));
    }

    private static boolean matches(Sample s, String[] labels) {
        for (int i = 0; i + 1 < labels.length; i += 2) {
            if (!labels[i + 1].equals(s.labels().get(labels[i]))) return false;
        }
        return true;
    }
}
