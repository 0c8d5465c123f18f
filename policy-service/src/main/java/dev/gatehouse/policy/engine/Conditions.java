package dev.gatehouse.policy.engine;

import com.google.common.collect.ImmutableCollection;
import com.google.common.collect.ImmutableList;
import com.google.common.collect.ImmutableSet;
import dev.cel.bundle.Cel;
import dev.cel.bundle.CelFactory;
import dev.cel.common.CelAbstractSyntaxTree;
import dev.cel.common.CelIssue;
import dev.cel.common.CelOptions;
import dev.cel.common.CelSourceLocation;
import dev.cel.common.CelValidationException;
import dev.cel.common.CelValidationResult;
import dev.cel.common.types.CelType;
import dev.cel.common.types.CelTypeProvider;
import dev.cel.common.types.ListType;
import dev.cel.common.types.SimpleType;
import dev.cel.common.types.StructType;
import dev.cel.parser.CelStandardMacro;
import dev.cel.runtime.CelEvaluationException;
import dev.cel.runtime.CelRuntime;
import java.util.ArrayList;
import java.util.Collections;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The CEL environment rule conditions are compiled in: the fact variables with declared
 * structured types, so a condition is parsed and type-checked when the policy is loaded.
 *
 * <p>Each variable is declared as a CEL struct type (for the checker) whose fields are given in
 * {@link #FIELDS}, taken from {@link FactCatalog} (where each is described); at run time the
 * values are plain Java maps with exactly those keys, built by {@link Facts}; so are fields of a struct
 * type ({@code identity.originator}) and the elements of a list of one ({@code command.statements}),
 * {@link FactCatalog#STRUCTS}. Comprehensions are
 * bounded so that no condition can loop for long.
 */
final class Conditions {

    /** Variable name to its fields and their CEL types; {@link Facts} provides exactly these keys. */
    static final Map<String, Map<String, CelType>> FIELDS = fields();

    private static final int MAX_COMPREHENSION_ITERATIONS = 10_000;

    private static final Cel CEL = build();

    private Conditions() {
    }

    private static Map<String, Map<String, CelType>> fields() {
        Map<String, Map<String, CelType>> all = new LinkedHashMap<>();
        for (FactCatalog.Variable variable : FactCatalog.VARIABLES) {
            Map<String, CelType> fields = new LinkedHashMap<>();
            variable.fields().forEach(field -> fields.put(field.name(), field.type()));
            all.put(variable.name(), Collections.unmodifiableMap(fields));
        }
        return Collections.unmodifiableMap(all);
    }

    private static Cel build() {
        Map<String, StructType> types = new LinkedHashMap<>();
        FIELDS.forEach((variable, fields) -> {
            Map<String, CelType> copy = Map.copyOf(fields);
            String typeName = "gatehouse." + Character.toUpperCase(variable.charAt(0)) + variable.substring(1);
            types.put(variable, StructType.create(typeName, ImmutableSet.copyOf(fields.keySet()),
                    field -> Optional.ofNullable(copy.get(field))));
        });
        List<CelType> known = new ArrayList<>(types.values());
        // struct types of fields (identity.originator, the elements of command.statements), the very instances
        // the fields use
        FIELDS.values().forEach(fields -> fields.values().forEach(type -> {
            if (type instanceof StructType struct) known.add(struct);
            if (type instanceof ListType list && list.elemType() instanceof StructType element) known.add(element);
        }));
        CelTypeProvider provider = new CelTypeProvider() {
            @Override
            public ImmutableCollection<CelType> types() {
                return ImmutableList.copyOf(known);
            }

            @Override
            public Optional<CelType> findType(String typeName) {
                return known.stream().filter(t -> t.name().equals(typeName)).findFirst();
            }
        };
        var builder = CelFactory.standardCelBuilder()
                .setOptions(CelOptions.current().comprehensionMaxIterations(MAX_COMPREHENSION_ITERATIONS).build())
                .setStandardMacros(CelStandardMacro.STANDARD_MACROS)
                .setTypeProvider(provider)
                .setResultType(SimpleType.BOOL);
        types.forEach(builder::addVar);
        return builder.build();
    }

    /** A condition that compiled and type-checked to bool. */
    record Compiled(String text, CelRuntime.Program program) {
        Object evaluate(Map<String, Object> variables) throws CelEvaluationException {
            return program.eval(variables);
        }
    }

    /**
     * Compiles one condition; on failure returns the errors, each as
     * "line L, column C: message" (1-based, in the condition text).
     */
    static Result compile(String text) {
        CelValidationResult result = CEL.compile(text);
        if (result.hasError()) {
            List<String> errors = new ArrayList<>();
            for (CelIssue issue : result.getErrors()) {
                errors.add(position(issue.getSourceLocation()) + issue.getMessage());
            }
            return new Result(null, errors);
        }
        try {
            CelAbstractSyntaxTree ast = result.getAst();
            return new Result(new Compiled(text, CEL.createProgram(ast)), List.of());
        } catch (CelValidationException | CelEvaluationException e) {
            return new Result(null, List.of(e.getMessage()));
        }
    }

    private static String position(CelSourceLocation location) {
        if (location == null || location.equals(CelSourceLocation.NONE) || location.getLine() < 1) return "";
        return "line " + location.getLine() + ", column " + (location.getColumn() + 1) + ": ";
    }

    /** Either a compiled condition or the errors that prevented it. */
    record Result(Compiled compiled, List<String> errors) {
    }
}
