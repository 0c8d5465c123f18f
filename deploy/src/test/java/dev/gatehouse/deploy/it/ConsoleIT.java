package dev.gatehouse.deploy.it;

import dev.gatehouse.deploy.dev.DevEnvironment;
import dev.gatehouse.dev.DevTokenIssuer;
import dev.gatehouse.platform.identity.DelegationTrust;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.openqa.selenium.By;
import org.openqa.selenium.JavascriptExecutor;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.WebElement;
import org.openqa.selenium.support.ui.ExpectedConditions;

import java.sql.Connection;
import java.sql.DriverManager;
import java.sql.Statement;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Properties;
import java.util.UUID;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The web console in a real headless Chromium against the whole system as {@code gatehouse dev}
 * runs it: sessions made by psql and JDBC through the edge are listed, filtered, played back with
 * their denials marked, followed live, and attacker-controlled SQL is shown as text only.
 */
class ConsoleIT {

    private static final Duration INDEXED = Duration.ofSeconds(60);
    private static final Duration UI = Duration.ofSeconds(15);

    @RegisterExtension
    final HeadlessChromium chromium = new HeadlessChromium();

    private final Gateway gw = Gateway.get();
    private final String suffix = UUID.randomUUID().toString().substring(0, 8);

    @Test
    void aSessionIsListedFilteredAndPlayedBackWithItsDenialMarked() throws Exception {
        // Given a psql session with allowed statements and a denied one
        String subject = "console-" + suffix;
        String table = "console_t_" + suffix;
        List<String> statements = List.of(
                "CREATE TABLE " + table + " (id int, name text)",
                "INSERT INTO " + table + " VALUES (1, 'ada'), (2, 'grace')",
                "SELECT id, name FROM " + table + " ORDER BY id",
                "DROP DATABASE scratch");
        var psql = gw.psql(subject, "scratch", String.join(";\n", statements) + ";\n", "-v", "ON_ERROR_STOP=0");
        assertThat(psql.stderr()).as(psql.toString()).contains("no-create-drop-database");

        // When the console is opened with a token in the fragment and the list filtered by subject
        WebDriver browser = open("index.html");
        filter("subject", subject);
        WebElement row = awaitRow(subject, 4);

        // Then the token left the address bar and the session is listed, closed, with one denial
        assertThat(browser.getCurrentUrl()).doesNotContain("token=");
        assertThat(row.findElement(By.cssSelector(".count-commands")).getText()).isEqualTo("4");
        assertThat(row.findElement(By.cssSelector(".count-denied")).getText()).isEqualTo("1");
        assertThat(row.findElement(By.cssSelector(".badge")).getText()).isIn("closed", "live");
        assertThat(rows()).hasSize(1);

        // When filtered by the object touched instead (and by one nobody touched)
        filter("subject", "");
        filter("object", table);
        chromium.await(UI).until(d -> rows().size() == 1 && rows().getFirst().getText().contains(subject));
        filter("object", "no_such_table_" + suffix);
        chromium.await(UI).until(d -> rows().isEmpty());

        // Then the session page shows the statements in order
        filter("object", table);
        chromium.await(UI).until(d -> rows().size() == 1);
        rows().getFirst().findElement(By.cssSelector("a.session-link")).click();
        chromium.await(UI).until(d -> commandTexts().size() == 4);
        assertThat(commandTexts()).containsExactlyElementsOf(statements.stream().map(t -> t + ";").toList()); // as psql sent them
        assertThat(browser.findElement(By.id("subject")).getText()).isEqualTo(subject);

        // When the player steps forward from the start to the denied statement
        browser.findElement(By.id("first")).click();
        int steps = 0;
        while (!currentText().contains("DROP DATABASE") && steps++ < 20) {
            String before = currentText();
            browser.findElement(By.id("forward")).click();
            chromium.await(UI).until(d -> !currentText().equals(before));
        }

        // Then the denied statement is current, marked red, with the rule in the detail
        WebElement current = browser.findElement(By.cssSelector("#timeline li.current"));
        assertThat(current.getAttribute("class")).contains("mark-deny");
        assertThat(current.findElement(By.cssSelector(".badge-deny")).getText()).isEqualTo("DENIED");
        assertThat(browser.findElement(By.id("decision")).getText()).contains("Denied by rule no-create-drop-database");
        assertThat(browser.findElement(By.id("detail-sql")).getText()).isEqualTo("DROP DATABASE scratch;");
        assertThat(browser.findElements(By.cssSelector("#timeline li.mark-deny"))).hasSize(1);

        // When stepping back once, the SELECT before it is current, with its outcome
        browser.findElement(By.id("back")).click();
        chromium.await(UI).until(d -> currentText().contains("SELECT id, name"));
        assertThat(browser.findElement(By.id("outcome")).getText()).contains("forwarded", "2 row(s)");

        // When played back at instant speed from the start
        browser.findElement(By.id("first")).click();
        new org.openqa.selenium.support.ui.Select(browser.findElement(By.id("speed"))).selectByValue("instant");
        browser.findElement(By.id("play")).click();

        // Then the player ends on the last entry
        chromium.await(UI).until(d -> {
            String label = d.findElement(By.id("position-label")).getText();
            String[] parts = label.split(" / ");
            return parts.length == 2 && parts[0].equals(parts[1]);
        });
    }

    @Test
    void aLiveSessionShowsUpAndItsNextStatementAppearsWithoutAReload() throws Exception {
        // Given a JDBC session that stays open after its first statement
        String subject = "console-live-" + suffix;
        try (Connection c = gw.jdbc("scratch", subject, "dba"); Statement s = c.createStatement()) {
            s.execute("SELECT 1 AS first_" + suffix);

            // When the list is filtered to live sessions of that subject
            WebDriver browser = open("index.html");
            new org.openqa.selenium.support.ui.Select(browser.findElement(By.name("status"))).selectByValue("open");
            filter("subject", subject);

            // Then it is listed as live
            WebElement row = awaitRow(subject, 1); // pgjdbc may add a statement of its own
            assertThat(row.getAttribute("data-status")).isEqualTo("open");
            assertThat(row.findElement(By.cssSelector(".badge-live")).getText()).isEqualTo("live");

            // When its page is open and the client runs another statement
            row.findElement(By.cssSelector("a.session-link")).click();
            chromium.await(UI).until(d -> commandTexts().contains("SELECT 1 AS first_" + suffix));
            ((JavascriptExecutor) browser).executeScript("window.__sameDocument = true;");
            assertThat(browser.findElement(By.id("session-status")).getText()).contains("live");
            s.execute("SELECT 2 AS second_" + suffix);

            // Then the statement appears on the same page, without a reload
            chromium.await(INDEXED).until(d -> commandTexts().contains("SELECT 2 AS second_" + suffix));
            assertThat(((JavascriptExecutor) browser).executeScript("return window.__sameDocument === true;")).isEqualTo(true);
        }
        // and once the client disconnects, the live badge goes
        chromium.await(INDEXED).until(d -> !d.findElement(By.id("session-status")).getText().contains("live"));
        assertThat(chromium.driver().findElement(By.id("session-status")).getText()).contains("closed");
    }

    @Test
    void aDelegatedSessionIsFoundByOriginatorAndActorAndShowsItsChainAndIntent() throws Exception {
        // Given an agent acting for a person through JDBC, with a run and step its issuer signed
        String person = "console-person-" + suffix;
        String agent = "planner-agent"; // an agent the example policy names; the person is this run's own
        String token = gw.env.issuer().issue(person, List.of("dba"), Duration.ofMinutes(30), Map.of(
                "act", DevTokenIssuer.actClaim(agent, List.of("agents"), List.of()),
                DelegationTrust.DEFAULT_RUN_CLAIM, "run-" + suffix, DelegationTrust.DEFAULT_STEP_CLAIM, "7"));
        try (Connection c = DriverManager.getConnection("jdbc:postgresql://127.0.0.1:" + gw.edgePort()
                + "/scratch?sslmode=disable&connectTimeout=30&socketTimeout=120", agent, token); Statement s = c.createStatement()) {
            s.execute("SELECT 1 AS delegated_" + suffix);
        }

        // When the list is filtered by the originator and the actor
        WebDriver browser = open("index.html");
        filter("originator", person);
        filter("actor", agent);

        // Then the session is listed as the agent's, for the person
        WebElement row = awaitRow(agent, 1);
        assertThat(row.findElement(By.cssSelector(".originator")).getText()).isEqualTo("for " + person);
        assertThat(rows()).hasSize(1);

        // When the same actor is asked for another originator
        filter("originator", person + "-other");

        // Then nothing matches
        chromium.await(UI).until(d -> rows().isEmpty());

        // When its session page is opened
        filter("originator", person);
        chromium.await(UI).until(d -> rows().size() == 1);
        rows().getFirst().findElement(By.cssSelector("a.session-link")).click();
        chromium.await(UI).until(d -> commandTexts().contains("SELECT 1 AS delegated_" + suffix));

        // Then it names the actor, the originator, the chain and the signed intent
        assertThat(browser.findElement(By.id("subject")).getText()).isEqualTo(agent);
        assertThat(browser.findElement(By.id("originator")).getText()).isEqualTo(person);
        assertThat(browser.findElement(By.id("chain")).getText()).isEqualTo(person + " → " + agent);
        WebElement intent = browser.findElement(By.id("intent"));
        assertThat(intent.getText()).isEqualTo("run run-" + suffix + " step 7 (signed by the issuer)");
        assertThat(intent.getAttribute("data-verified")).isEqualTo("true");
    }

    @Test
    void attackerControlledSqlIsShownAsTextAndNeverRuns() throws Exception {
        // Given a session whose SQL carries HTML and script payloads
        String subject = "console-xss-" + suffix;
        String sql = "SELECT '<img src=x onerror=\"window.__xss=1\">' AS a, '<script>window.__xss=2</script>' AS b, "
                + "'\"><svg onload=window.__xss=3>' AS c";
        var psql = gw.psql(subject, "scratch", sql + ";\n");
        assertThat(psql.exitCode()).as(psql.toString()).isZero();

        // When its session is listed and played to that statement
        WebDriver browser = open("index.html");
        filter("text", "window.__xss");
        filter("subject", subject);
        awaitRow(subject, 1).findElement(By.cssSelector("a.session-link")).click();
        chromium.await(UI).until(d -> commandTexts().contains(sql + ";"));
        browser.findElement(By.cssSelector("#timeline li[data-type=command]")).click();
        chromium.await(UI).until(d -> d.findElement(By.id("detail-sql")).getText().equals(sql + ";"));

        // Then the payloads are plain text: no element was injected and no script ran
        JavascriptExecutor js = (JavascriptExecutor) browser;
        assertThat(js.executeScript("return document.querySelectorAll('main img, main script, main svg, main [onerror], main [onload]').length"))
                .isEqualTo(0L);
        assertThat(js.executeScript("return typeof window.__xss")).isEqualTo("undefined");
        assertThat(browser.findElement(By.cssSelector("#timeline li.current code.sql")).getText()).isEqualTo(sql + ";");
    }

    /** Opens a console page signed in through the URL fragment, as {@code gatehouse console} does. */
    private WebDriver open(String page) {
        Properties dev = DevEnvironment.readState(gw.dataDir);
        String url = dev.getProperty("indexer.url");
        assertThat(url).as("gatehouse dev wrote no indexer.url: is the INDEXER role wired into gatehouse dev?").isNotNull();
        String token = gw.token("auditor-" + suffix, dev.getProperty("indexer.read-group", "gatehouse-auditors"));
        WebDriver browser = chromium.driver();
        browser.get(url + "/console/" + page + "#token=" + token);
        chromium.await(UI).until(ExpectedConditions.visibilityOfElementLocated(By.id("main")));
        return browser;
    }

    private void filter(String name, String value) {
        WebElement input = chromium.driver().findElement(By.cssSelector("#filters [name=" + name + "]"));
        input.clear();
        if (!value.isEmpty()) input.sendKeys(value);
        chromium.driver().findElement(By.id("search")).click();
    }

    /** Waits (the list refreshes itself every 2 s) until the subject's session shows at least that many commands. */
    private WebElement awaitRow(String subject, int commands) {
        return chromium.await(INDEXED).until(d -> rows().stream()
                .filter(r -> r.getText().contains(subject))
                .filter(r -> r.findElements(By.cssSelector("td.count-commands")).stream()
                        .anyMatch(c -> Integer.parseInt(c.getText()) >= commands))
                .findFirst().orElse(null));
    }

    private List<WebElement> rows() {
        return chromium.driver().findElements(By.cssSelector("#sessions tbody tr"));
    }

    private List<String> commandTexts() {
        return chromium.driver().findElements(By.cssSelector("#timeline li[data-type=command] code.sql")).stream()
                .map(WebElement::getText).toList();
    }

    private String currentText() {
        List<WebElement> current = chromium.driver().findElements(By.cssSelector("#timeline li.current"));
        return current.isEmpty() ? "" : current.getFirst().getText();
    }
}
