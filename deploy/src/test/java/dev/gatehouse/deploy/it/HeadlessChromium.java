package dev.gatehouse.deploy.it;

import org.junit.jupiter.api.extension.AfterEachCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.openqa.selenium.OutputType;
import org.openqa.selenium.StaleElementReferenceException;
import org.openqa.selenium.TakesScreenshot;
import org.openqa.selenium.WebDriver;
import org.openqa.selenium.chrome.ChromeDriver;
import org.openqa.selenium.chrome.ChromeDriverService;
import org.openqa.selenium.chrome.ChromeOptions;
import org.openqa.selenium.support.ui.WebDriverWait;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.File;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.time.Duration;
import java.util.Comparator;
import java.util.stream.Stream;

/**
 * A real headless Chromium (the Debian {@code chromium} and {@code chromium-driver} packages),
 * driven through chromedriver with explicit paths so Selenium Manager never downloads anything;
 * a fresh profile per browser. As a JUnit extension it saves a screenshot of a failed test into
 * {@code target/} and quits the browser.
 */
final class HeadlessChromium implements AfterEachCallback {

    private static final Logger LOGGER = LoggerFactory.getLogger(HeadlessChromium.class);
    static final Path CHROMIUM = Path.of("/usr/bin/chromium");
    static final Path CHROMEDRIVER = Path.of("/usr/bin/chromedriver");

    private WebDriver driver;
    private ChromeDriverService service;
    private Path profile;

    /** The browser, started on first use. */
    WebDriver driver() {
        if (driver == null) start();
        return driver;
    }

    WebDriverWait await(Duration timeout) {
        WebDriverWait wait = new WebDriverWait(driver(), timeout, Duration.ofMillis(100));
        wait.ignoring(StaleElementReferenceException.class); // the pages re-render what changed every 2 s
        return wait;
    }

    private void start() {
        if (!Files.isExecutable(CHROMIUM) || !Files.isExecutable(CHROMEDRIVER)) {
            throw new AssertionError("the console tests need a real headless Chromium: install the Debian packages "
                    + "'chromium' and 'chromium-driver' (apt-get install chromium chromium-driver; .ci/run does), missing "
                    + (Files.isExecutable(CHROMIUM) ? CHROMEDRIVER : CHROMIUM));
        }
        // never let Selenium Manager look for (or download) a driver or a browser
        System.setProperty("webdriver.chrome.driver", CHROMEDRIVER.toString());
        System.setProperty("SE_OFFLINE", "true");
        try {
            profile = Files.createTempDirectory("gatehouse-chromium-");
        } catch (IOException e) {
            throw new IllegalStateException("cannot create a Chromium profile directory", e);
        }
        service = new ChromeDriverService.Builder().usingDriverExecutable(CHROMEDRIVER.toFile()).usingAnyFreePort().build();
        ChromeOptions options = new ChromeOptions();
        options.setBinary(CHROMIUM.toFile());
        options.addArguments("--headless=new", "--no-sandbox", "--disable-gpu", "--disable-dev-shm-usage", "--disable-quic",
                "--no-first-run", "--disable-background-networking", "--disable-component-update", "--disable-sync",
                "--window-size=1400,1000", "--user-data-dir=" + profile);
        driver = new ChromeDriver(service, options);
        driver.manage().timeouts().pageLoadTimeout(Duration.ofSeconds(30));
    }

    @Override
    public void afterEach(ExtensionContext context) {
        try {
            if (driver != null && context.getExecutionException().isPresent()) screenshot(context.getDisplayName());
        } finally {
            quit();
        }
    }

    private void screenshot(String name) {
        try {
            File shot = ((TakesScreenshot) driver).getScreenshotAs(OutputType.FILE);
            Path target = Path.of("target", "console-it-" + name.replaceAll("[^A-Za-z0-9_-]", "_") + ".png");
            Files.createDirectories(target.getParent());
            Files.copy(shot.toPath(), target, StandardCopyOption.REPLACE_EXISTING);
            Files.writeString(Path.of(target.toString().replace(".png", ".html")), driver.getPageSource());
            LOGGER.warn("console test failed: screenshot {}", target.toAbsolutePath());
        } catch (RuntimeException | IOException e) {
            LOGGER.warn("no screenshot of the failed console test: {}", e.toString());
        }
    }

    void quit() {
        try {
            if (driver != null) driver.quit();
        } finally {
            driver = null;
            if (service != null) service.stop();
            service = null;
            if (profile != null) deleteQuietly(profile);
            profile = null;
        }
    }

    private static void deleteQuietly(Path dir) {
        try (Stream<Path> files = Files.walk(dir)) {
            files.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        } catch (IOException e) {
            LOGGER.debug("cannot delete {}", dir, e);
        }
    }
}
