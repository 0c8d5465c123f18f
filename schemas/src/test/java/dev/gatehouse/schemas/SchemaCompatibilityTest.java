package dev.gatehouse.schemas;

import static org.assertj.core.api.Assertions.assertThat;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;

import org.apache.avro.Schema;
import org.apache.avro.SchemaCompatibility;
import org.apache.avro.SchemaCompatibility.Incompatibility;
import org.apache.avro.SchemaCompatibility.SchemaIncompatibilityType;
import org.apache.avro.SchemaParser;
import org.junit.jupiter.api.DynamicTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestFactory;

/**
 * Every schema released before (a copy under {@code src/test/resources/released/v1}) must stay
 * fully compatible with the current one under {@code src/main/avro}: the current schema reads
 * data written with the released one (backward), and the released one reads data written with
 * the current one (forward), so SIEMs holding an older schema keep working.
 *
 * <p>One deliberate exception to forward compatibility: a new event type (a new branch of the
 * envelope's {@code payload} union) may be added. Avro has no default for unknown union branches,
 * so a reader with the older schema fails on records of the new type only; every other record
 * still decodes. Removing a branch, or any other change, is refused.
 */
class SchemaCompatibilityTest {

    private static final Path BASEDIR = Path.of(System.getProperty("basedir", "."));
    private static final Path CURRENT = BASEDIR.resolve("src/main/avro");
    private static final Path RELEASED = BASEDIR.resolve("src/test/resources/released/v1");

    @TestFactory
    Stream<DynamicTest> everyReleasedSchemaIsFullyCompatibleWithTheCurrentOne() {
        Map<Path, Schema> released = parseDirectory(RELEASED);
        Map<String, Schema> current = byFullName(parseDirectory(CURRENT));
        assertThat(released).as("released schemas under %s", RELEASED).isNotEmpty();

        return released.entrySet().stream().map(entry -> DynamicTest.dynamicTest(
                RELEASED.relativize(entry.getKey()).toString(), () -> {
                    // Given
                    Schema old = entry.getValue();
                    Schema now = current.get(old.getFullName());

                    // When
                    List<String> problems = now == null
                            ? List.of(old.getFullName() + " was released but no longer exists under " + CURRENT)
                            : problems(now, old);

                    // Then
                    assertThat(problems).as("incompatibilities of %s", old.getFullName()).isEmpty();
                }));
    }

    @Test
    void theCheckRefusesAFieldWithoutDefaultAndAChangedType() {
        // Given
        Schema released = byFullName(parseDirectory(RELEASED)).get("dev.gatehouse.schemas.v1.Outcome");
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : released.getFields()) {
            Schema type = f.name().equals("rows") ? Schema.create(Schema.Type.STRING) : f.schema();
            fields.add(new Schema.Field(f.name(), type, f.doc(), f.name().equals("rows") ? null : f.defaultVal()));
        }
        fields.add(new Schema.Field("severity", Schema.create(Schema.Type.STRING), "new, no default", (Object) null));
        Schema variant = Schema.createRecord(released.getName(), released.getDoc(), released.getNamespace(), false, fields);

        // When
        List<String> problems = problems(variant, released);

        // Then
        assertThat(problems)
                .anyMatch(p -> p.contains("READER_FIELD_MISSING_DEFAULT_VALUE") && p.contains("severity"))
                .anyMatch(p -> p.contains("TYPE_MISMATCH at /fields/" + released.getField("rows").pos() + "/type"));
    }

    @Test
    void aReaderDefaultMayBeAddedToAReleasedEnumButNotASymbol() {
        // Given: SqlCommandForm was released without a default
        Schema released = byFullName(parseDirectory(RELEASED)).get("dev.gatehouse.schemas.v1.SqlCommandForm");
        Schema withDefault = Schema.createEnum(released.getName(), released.getDoc(), released.getNamespace(),
                released.getEnumSymbols(), "FUNCTION_CALL");
        List<String> more = new ArrayList<>(released.getEnumSymbols());
        more.add("SOMETHING_NEW");
        Schema withSymbol = Schema.createEnum(released.getName(), released.getDoc(), released.getNamespace(), more,
                "FUNCTION_CALL");

        // When
        List<String> addingDefault = problems(withDefault, released);
        List<String> addingSymbol = problems(withSymbol, released);

        // Then: a released reader has no default to read a new symbol as
        assertThat(addingDefault).isEmpty();
        assertThat(addingSymbol).anyMatch(p -> p.startsWith("released cannot read current data")
                && p.contains("MISSING_ENUM_SYMBOLS"));
    }

    @Test
    void everyEnumHasAReaderDefaultThatIsOneOfItsSymbols() {
        // Given
        Map<String, Schema> current = byFullName(parseDirectory(CURRENT));

        // When: enums of their own file and those declared inside a record (StatementStep)
        Map<String, Schema> named = new LinkedHashMap<>();
        current.values().forEach(s -> collectNamed(s, named));
        List<Schema> enums = named.values().stream().filter(s -> s.getType() == Schema.Type.ENUM).toList();

        // Then
        assertThat(enums).extracting(Schema::getName).contains("StatementStep", "SqlCommandForm");
        assertThat(enums).allSatisfy(e -> assertThat(e.getEnumDefault())
                .as("reader default of %s", e.getFullName()).isNotNull().isIn(e.getEnumSymbols()));
    }

    @Test
    void removingAnEventTypeIsRefusedButAddingOneIsAllowed() {
        // Given
        Schema released = byFullName(parseDirectory(RELEASED)).get("dev.gatehouse.schemas.v1.AuditRecord");
        List<Schema> branches = released.getField("payload").schema().getTypes();
        Schema withoutLast = envelopeWithPayload(released, branches.subList(0, branches.size() - 1));
        List<Schema> more = new ArrayList<>(branches);
        more.add(Schema.createRecord("SomethingNew", "a future event", "dev.gatehouse.schemas.v1", false, List.of()));
        Schema withNewType = envelopeWithPayload(released, more);

        // When
        List<String> removing = problems(withoutLast, released);
        List<String> adding = problems(withNewType, released);

        // Then
        assertThat(removing).anyMatch(p -> p.contains("MISSING_UNION_BRANCH"));
        assertThat(adding).isEmpty();
    }

    /** Every named type reachable from {@code schema}, by full name. */
    private static void collectNamed(Schema schema, Map<String, Schema> into) {
        switch (schema.getType()) {
            case RECORD -> {
                if (into.putIfAbsent(schema.getFullName(), schema) == null) {
                    schema.getFields().forEach(f -> collectNamed(f.schema(), into));
                }
            }
            case ENUM, FIXED -> into.putIfAbsent(schema.getFullName(), schema);
            case ARRAY -> collectNamed(schema.getElementType(), into);
            case MAP -> collectNamed(schema.getValueType(), into);
            case UNION -> schema.getTypes().forEach(t -> collectNamed(t, into));
            default -> { }
        }
    }

    /** Incompatibilities of {@code current} with {@code released}, in both directions. */
    static List<String> problems(Schema current, Schema released) {
        List<String> problems = new ArrayList<>();
        for (Incompatibility i : incompatibilities(current, released)) {
            problems.add("current cannot read released data: " + describe(i));
        }
        for (Incompatibility i : incompatibilities(released, current)) {
            if (!isNewEventType(current, i)) {
                problems.add("released cannot read current data: " + describe(i));
            }
        }
        return problems;
    }

    private static List<Incompatibility> incompatibilities(Schema reader, Schema writer) {
        return SchemaCompatibility.checkReaderWriterCompatibility(reader, writer).getResult().getIncompatibilities();
    }

    /** A branch the current envelope's payload union has and an older reader lacks: allowed. */
    private static boolean isNewEventType(Schema current, Incompatibility i) {
        if (i.getType() != SchemaIncompatibilityType.MISSING_UNION_BRANCH || current.getType() != Schema.Type.RECORD) {
            return false;
        }
        Schema.Field payload = current.getField("payload");
        return payload != null
                && payload.schema().getType() == Schema.Type.UNION
                && i.getLocation().startsWith("/fields/" + payload.pos() + "/type");
    }

    private static String describe(Incompatibility i) {
        return i.getType() + " at " + i.getLocation() + ": " + i.getMessage();
    }

    private static Schema envelopeWithPayload(Schema envelope, List<Schema> branches) {
        List<Schema.Field> fields = new ArrayList<>();
        for (Schema.Field f : envelope.getFields()) {
            Schema type = f.name().equals("payload") ? Schema.createUnion(branches) : f.schema();
            fields.add(new Schema.Field(f.name(), type, f.doc(), f.defaultVal()));
        }
        return Schema.createRecord(envelope.getName(), envelope.getDoc(), envelope.getNamespace(), false, fields);
    }

    /**
     * Parses every {@code .avsc} below {@code dir} with one parser, so files may refer to types of
     * other files in any order. Returns each file's own (top-level) type, by file.
     */
    static Map<Path, Schema> parseDirectory(Path dir) {
        SchemaParser parser = new SchemaParser();
        Map<Path, SchemaParser.ParseResult> results = new LinkedHashMap<>();
        try (Stream<Path> files = Files.walk(dir)) {
            for (Path file : files.filter(p -> p.toString().endsWith(".avsc")).sorted().toList()) {
                results.put(file, parser.parse(file));
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot read schemas under " + dir.toAbsolutePath(), e);
        }
        Map<Path, Schema> schemas = new LinkedHashMap<>();
        results.forEach((file, result) -> schemas.put(file, parser.resolve(result)));
        return schemas;
    }

    private static Map<String, Schema> byFullName(Map<Path, Schema> schemas) {
        Map<String, Schema> byName = new LinkedHashMap<>();
        schemas.values().forEach(s -> byName.put(s.getFullName(), s));
        return byName;
    }
}
