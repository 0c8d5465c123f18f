package dev.gatehouse.edge.masking;

import java.net.Inet6Address;
import java.nio.charset.StandardCharsets;
import java.util.Base64;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.function.Predicate;
import java.util.regex.Pattern;
import java.util.regex.PatternSyntaxException;

/**
 * The built-in detectors, by the name a profile uses ({@code email}, {@code payment_card}, ...),
 * and custom regular expressions. Patterns are anchored on word boundaries so that a match is
 * never part of a longer number or word; candidates with a checksum are validated.
 */
public final class Detectors {

    private static final Map<String, Detector> BUILT_IN = new TreeMap<>();

    static {
        // possessive runs: each start position costs one pass over its word, never a backtrack
        add(new Detector("email",
                Pattern.compile("(?<![A-Za-z0-9._%+-])[A-Za-z0-9._%+-]++@[A-Za-z0-9-]++(?:\\.[A-Za-z0-9-]++)++"),
                s -> s.indexOf('@') > 0, Detectors::isEmail));
        // international (+CC) or grouped national numbers: 10 to 15 digits (E.164 allows 15) with separators
        add(new Detector("phone",
                Pattern.compile("(?<![\\w+.-])(?:\\+|\\(\\d)?\\d[\\d ().-]{7,22}(?<=\\d)(?![\\w.-]?\\d)"),
                s -> digits(s) >= 10, Detectors::isPhone));
        add(new Detector("payment_card",
                Pattern.compile("(?<![\\w-])\\d(?:[ -]?\\d){12,18}(?![\\w-])"),
                s -> digits(s) >= 13, Detectors::isCard));
        add(new Detector("iban",
                Pattern.compile("(?<![A-Za-z0-9])[A-Z]{2}\\d{2}(?: ?[A-Z0-9]){11,30}(?![A-Za-z0-9])"),
                Detectors::hasIbanStart, Detectors::isIban));
        add(new Detector("us_ssn",
                Pattern.compile("(?<![\\w-])(?!000|666|9\\d\\d)\\d{3}-(?!00)\\d{2}-(?!0000)\\d{4}(?![\\w-])"),
                s -> s.indexOf('-') > 0 && digits(s) >= 9, s -> true));
        add(new Detector("ipv4",
                Pattern.compile("(?<![\\w.])(?:(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)\\.){3}(?:25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)"
                        + "(?!\\w|\\.\\d)"),
                Detectors::hasThreeDigitDots, s -> true));
        add(new Detector("ipv6",
                Pattern.compile("(?<![\\w:.])[0-9A-Fa-f:]*:[0-9A-Fa-f:]*:[0-9A-Fa-f:]*(?:\\d{1,3}(?:\\.\\d{1,3}){3})?(?![\\w:.])"),
                s -> s.indexOf(':') >= 0, Detectors::isIpv6));
        add(new Detector("jwt",
                Pattern.compile("(?<![\\w-])eyJ[A-Za-z0-9_-]{8,}\\.eyJ[A-Za-z0-9_-]{4,}\\.[A-Za-z0-9_-]*(?![\\w-])"),
                s -> s.contains("eyJ"), Detectors::isJwt));
        add(new Detector("aws_access_key",
                Pattern.compile("(?<![A-Za-z0-9])(?:AKIA|ASIA|ABIA|ACCA|AGPA|AIDA|AIPA|ANPA|ANVA|AROA|APKA)[A-Z0-9]{16}(?![A-Za-z0-9])"),
                Detectors::hasAwsPrefix, s -> true));
        add(new Detector("gcp_api_key",
                Pattern.compile("(?<![\\w-])AIza[0-9A-Za-z_-]{35}(?![\\w-])"),
                s -> s.contains("AIza"), s -> true));
        add(new Detector("azure_storage_key",
                Pattern.compile("AccountKey=[A-Za-z0-9+/]{86}=="),
                s -> s.contains("AccountKey="), s -> true));
        add(new Detector("pem_private_key",
                Pattern.compile("-----BEGIN (?:[A-Z0-9]+ )*PRIVATE KEY-----(?s:.*?)(?:-----END (?:[A-Z0-9]+ )*PRIVATE KEY-----|\\z)"),
                s -> s.contains("PRIVATE KEY-----"), s -> true));
    }

    private Detectors() {
    }

    private static void add(Detector d) {
        BUILT_IN.put(d.name(), d);
    }

    /** A built-in detector by name. */
    public static Optional<Detector> builtIn(String name) {
        return Optional.ofNullable(BUILT_IN.get(name.toLowerCase(Locale.ROOT)));
    }

    private static final List<String> PRECEDENCE = List.of("pem_private_key", "jwt", "aws_access_key", "gcp_api_key",
            "azure_storage_key", "iban", "payment_card", "us_ssn", "email", "ipv6", "ipv4", "phone");

    /**
     * The order detectors run in, most specific first, so that a loose pattern (a phone number)
     * cannot take digits out of a stricter one (an IBAN, a card): custom regexes, then private
     * keys, tokens and cloud keys, checksummed numbers, SSNs, emails, IP addresses, phones.
     */
    static int precedence(Detector detector) {
        return BUILT_IN.get(detector.name()) == detector ? 1 + PRECEDENCE.indexOf(detector.name()) : 0;
    }

    /** The names of the built-in detectors. */
    public static List<String> builtInNames() {
        return List.copyOf(BUILT_IN.keySet());
    }

    /**
     * A detector for a custom regular expression; every match is sensitive.
     *
     * @throws MaskingException when the expression does not compile or matches the empty string
     */
    public static Detector regex(String name, String regex) {
        Pattern pattern;
        try {
            pattern = Pattern.compile(regex);
        } catch (PatternSyntaxException e) {
            throw new MaskingException("invalid regex " + quote(regex) + ": " + e.getDescription()
                    + " near index " + e.getIndex());
        }
        if (pattern.matcher("").matches()) {
            throw new MaskingException("regex " + quote(regex) + " matches the empty string");
        }
        return new Detector(name, pattern, s -> true, s -> !s.isEmpty());
    }

    private static String quote(String s) {
        return "\"" + s + "\"";
    }

    // ------------------------------------------------------------------ checks

    private static int digits(String s) {
        int digits = 0;
        for (int i = 0, n = s.length(); i < n; i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') digits++;
        }
        return digits;
    }

    private static boolean upper(char c) {
        return c >= 'A' && c <= 'Z';
    }

    private static boolean digit(char c) {
        return c >= '0' && c <= '9';
    }

    /** Three dots between digits, as in a dotted quad. */
    private static boolean hasThreeDigitDots(String s) {
        int dots = 0;
        for (int i = s.indexOf('.'); i > 0 && i + 1 < s.length(); i = s.indexOf('.', i + 1)) {
            if (digit(s.charAt(i - 1)) && digit(s.charAt(i + 1)) && ++dots == 3) return true;
        }
        return false;
    }

    /** Two capitals and two digits: where an IBAN starts. */
    private static boolean hasIbanStart(String s) {
        for (int i = 0, n = s.length() - 14; i < n; i++) {
            if (upper(s.charAt(i)) && upper(s.charAt(i + 1)) && digit(s.charAt(i + 2)) && digit(s.charAt(i + 3))) return true;
        }
        return false;
    }

    /** An 'A' and three more capitals with room for a 20-character key id. */
    private static boolean hasAwsPrefix(String s) {
        for (int i = s.indexOf('A'); i >= 0 && i + 20 <= s.length(); i = s.indexOf('A', i + 1)) {
            if (upper(s.charAt(i + 1)) && upper(s.charAt(i + 2)) && upper(s.charAt(i + 3))) return true;
        }
        return false;
    }

    /** A domain of labels (letters, digits, inner hyphens) ending in an alphabetic top-level domain. */
    private static boolean isEmail(String candidate) {
        int at = candidate.indexOf('@');
        if (at == 0 || at > 64) return false;
        String[] labels = candidate.substring(at + 1).split("\\.", -1);
        if (labels.length < 2) return false;
        for (String label : labels) {
            if (label.isEmpty() || label.length() > 63 || label.startsWith("-") || label.endsWith("-")) return false;
        }
        String tld = labels[labels.length - 1];
        return tld.length() >= 2 && tld.length() <= 24 && tld.chars().allMatch(Character::isLetter);
    }

    private static String digitsOf(String s) {
        StringBuilder b = new StringBuilder(s.length());
        for (int i = 0; i < s.length(); i++) {
            char c = s.charAt(i);
            if (c >= '0' && c <= '9') b.append(c);
        }
        return b.toString();
    }

    private static final Pattern PHONE_SHAPE = Pattern.compile(
            "\\+?(?:\\(\\d{1,4}\\)[ .-]?)?\\d{1,4}(?:[ .-]?(?:\\(\\d{1,4}\\)|\\d{1,4}))*");
    private static final Pattern DOTTED_QUAD = Pattern.compile("\\d{1,3}(?:\\.\\d{1,3}){3}");
    private static final Pattern ISO_DATE = Pattern.compile(".*\\d{4}-\\d{2}-\\d{2}.*");

    /**
     * Groups of 1 to 4 digits with single separators (an optional +country code, area codes in
     * parentheses), 10 to 15 digits in all; not a card number, an IPv4 address or a date.
     */
    private static boolean isPhone(String candidate) {
        int digits = digits(candidate);
        boolean separated = candidate.startsWith("+") || candidate.indexOf('(') >= 0
                || candidate.indexOf(' ') >= 0 || candidate.indexOf('-') >= 0 || candidate.indexOf('.') >= 0;
        return separated && digits >= 10 && digits <= 15 && PHONE_SHAPE.matcher(candidate).matches()
                && !DOTTED_QUAD.matcher(candidate).matches() && !ISO_DATE.matcher(candidate).matches() && !isCard(candidate);
    }

    /** 13 to 19 digits with a valid Luhn check digit. */
    static boolean isCard(String candidate) {
        String digits = digitsOf(candidate);
        return digits.length() >= 13 && digits.length() <= 19 && luhn(digits);
    }

    /** The Luhn (mod 10) check over a string of digits. */
    static boolean luhn(String digits) {
        int sum = 0;
        boolean doubled = false;
        for (int i = digits.length() - 1; i >= 0; i--) {
            int d = digits.charAt(i) - '0';
            if (doubled) {
                d *= 2;
                if (d > 9) d -= 9;
            }
            sum += d;
            doubled = !doubled;
        }
        return sum % 10 == 0;
    }

    /** ISO 13616: 15 to 34 characters, check digits such that the rearranged number mod 97 is 1. */
    static boolean isIban(String candidate) {
        String iban = candidate.replace(" ", "");
        if (iban.length() < 15 || iban.length() > 34) return false;
        String rearranged = iban.substring(4) + iban.substring(0, 4);
        int mod = 0;
        for (int i = 0; i < rearranged.length(); i++) {
            char c = rearranged.charAt(i);
            if (c >= '0' && c <= '9') {
                mod = (mod * 10 + (c - '0')) % 97;
            } else if (c >= 'A' && c <= 'Z') {
                mod = (mod * 100 + (c - 'A' + 10)) % 97;
            } else {
                return false;
            }
        }
        return mod == 1;
    }

    private static boolean isIpv6(String candidate) {
        if (candidate.length() < 3 || candidate.chars().noneMatch(c -> Character.digit(c, 16) >= 0)) return false;
        try {
            Inet6Address.ofLiteral(candidate); // an IPv4-mapped address comes back as an Inet4Address
            return true;
        } catch (IllegalArgumentException e) {
            return false;
        }
    }

    private static final Predicate<String> JSON_OBJECT = s -> s.startsWith("{") && s.endsWith("}");

    /** Three base64url segments whose header decodes to a JSON object naming an {@code alg}. */
    private static boolean isJwt(String candidate) {
        int dot = candidate.indexOf('.');
        try {
            String header = new String(Base64.getUrlDecoder().decode(candidate.substring(0, dot)), StandardCharsets.UTF_8).strip();
            return JSON_OBJECT.test(header) && header.contains("\"alg\"");
        } catch (IllegalArgumentException e) {
            return false;
        }
    }
}
