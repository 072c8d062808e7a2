/*
 * test_feel_eval.c — FEEL evaluation: every construct of the language and
 * the built-in functions, results compared as JSON text, warnings for nulls,
 * and the evaluation limits.
 */
#include "base/buf.h"
#include "base/error.h"
#include "base/rand.h"
#include "feel/feel.h"
#include "test.h"

static char last_warning[256];

/* Evaluates src with variables (JSON or NULL) and returns the result as JSON
 * in a static buffer. */
static const char *ev(const char *src, const char *vars_json)
{
    static char out[4096];
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_feel_compile(src, strlen(src), NULL, &e, &d);
    CHECK_MSG(rc == 0, "compile \"%s\": %s", src, d.message);
    tandem_feel_vars *vars = NULL;
    if (vars_json != NULL) {
        rc = tandem_feel_vars_from_json(vars_json, strlen(vars_json), &vars, &d);
        CHECK_MSG(rc == 0, "vars %s: %s", vars_json, d.message);
    }
    tandem_feel_eval_opts opts = {.vars = vars};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    rc = tandem_feel_eval(e, &opts, &r, &d);
    CHECK_MSG(rc == 0, "eval \"%s\": %s", src, d.message);
    last_warning[0] = '\0';
    if (r.warning_count > 0) {
        snprintf(last_warning, sizeof(last_warning), "%s", r.warnings[0]);
    }
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_feel_result_json(&r, &b));
    CHECK(b.len < sizeof(out));
    memcpy(out, b.data, b.len);
    out[b.len] = '\0';
    tandem_buf_free(&b);
    tandem_feel_result_free(&r);
    tandem_feel_vars_free(vars);
    tandem_feel_expr_free(e);
    return out;
}

#define EQ(expected, src)        CHECK_STREQ(expected, ev(src, NULL))
#define EQV(expected, src, vars) CHECK_STREQ(expected, ev(src, vars))

#define EQ(expected, src)        CHECK_STREQ(expected, ev(src, NULL))
#define EQV(expected, src, vars) CHECK_STREQ(expected, ev(src, vars))

static void test_arithmetic(void)
{
    EQ("3", "1 + 2");
    EQ("0.3", "0.1 + 0.2");
    EQ("7", "1 + 2 * 3");
    EQ("-1", "2 - 3");
    EQ("2.5", "5 / 2");
    EQ("8", "2 ** 3");
    EQ("-5", "-(2 + 3)");
    EQ("null", "1 / 0");
    EQ("\"foobar\"", "\"foo\" + \"bar\"");
    EQ("null", "1 + \"a\"");
    CHECK_CONTAINS(last_warning, "can't add a value of type number and a value of type string");
    EQ("null", "null + 1");
    /* FEEL numbers are 34-digit decimals, not binary doubles. */
    EQ("true", "0.1 + 0.2 = 0.3");
    EQ("0.3333333333333333333333333333333333", "1 / 3");
    EQ("1E+40", "10 ** 40");
    EQ("12345678901234567890", "12345678901234567890");
    EQ("1.1", "1.10");
    EQV("0.3", "a + b", "{\"a\": 0.1, \"b\": 0.2}");
}

static void test_comparison_and_logic(void)
{
    EQ("true", "1 < 2");
    EQ("false", "2 <= 1");
    EQ("true", "\"a\" < \"b\"");
    EQ("true", "1 = 1.0");
    EQ("true", "[1, 2] = [1, 2]");
    EQ("true", "{a: 1} = {a: 1}");
    EQ("false", "1 != 1");
    EQ("true", "null = null");
    EQ("false", "1 = null");
    EQ("null", "1 = \"1\"");
    EQ("null", "1 < \"a\"");
    EQ("false", "false and null");
    EQ("null", "true and null");
    EQ("true", "null or true");
    EQ("null", "false or null");
    EQ("null", "1 and true");
    EQ("true", "5 between 1 and 10");
    EQ("false", "11 between 1 and 10");
    EQ("true", "not(false)");
    EQ("null", "not(1)");
}

static void test_variables_and_paths(void)
{
    const char *vars = "{\"amount\": 1500, \"status\": \"approved\", \"a\": {\"b\": {\"c\": 7}},"
                       " \"items\": [{\"price\": 5, \"name\": \"x\"}, {\"price\": 20, \"name\": "
                       "\"y\"}, {\"price\": 30, \"name\": \"z\"}], \"f\": 0.1}";
    EQV("true", "amount > 1000 and status = \"approved\"", vars);
    EQV("7", "a.b.c", vars);
    EQV("[\"y\",\"z\"]", "items[price > 10].name", vars);
    EQV("{\"total\":55}", "{total: sum(items.price)}", vars);
    EQV("[5,20,30]", "items.price", vars);
    EQV("0.3", "f + 0.2", vars);
    EQV("null", "missing", vars);
    CHECK_STREQ("no variable found with name 'missing'", last_warning);
    EQV("null", "a.nope", vars);
    CHECK_CONTAINS(last_warning, "no context entry found with key 'nope'");
    EQV("null", "missing.x", vars);
}

static void test_filters(void)
{
    EQ("[4,5]", "[1, 2, 3, 4, 5][item > 3]");
    EQ("1", "[1, 2, 3][1]");
    EQ("3", "[1, 2, 3][-1]");
    EQ("null", "[1, 2, 3][4]");
    EQ("[{\"a\":2}]", "[{a: 1}, {a: 2}][a > 1]");
    EQ("[]", "[1, 2][item > 5]");
}

static void test_control(void)
{
    EQ("\"big\"", "if 5 > 3 then \"big\" else \"small\"");
    EQ("\"small\"", "if null then \"big\" else \"small\"");
    EQ("[2,4,6]", "for x in [1, 2, 3] return x * 2");
    EQ("[1,2,3]", "for x in 1..3 return x");
    EQ("[3,2,1]", "for x in 3..1 return x");
    EQ("[11,21,12,22]", "for x in [1, 2], y in [10, 20] return x + y");
    EQ("true", "some x in [1, 5] satisfies x > 3");
    EQ("false", "every x in [1, 5] satisfies x > 3");
    EQ("true", "every x in [] satisfies x > 3");
    EQ("[1,2,3]", "for x in [1,2,3] return count(partial) + 1");
    EQ("null", "for x in null return x");
    CHECK_STREQ("'x' iterates over null", last_warning);
    EQ("null", "some x in null satisfies x > 1");
    EQ("null", "for x in [1, 2], y in null return x");
    EQ("null", "for x in 1..\"a\" return x");
    CHECK_CONTAINS(last_warning, "must have integer ends");
    EQ("[5]", "for x in 5 return x");
    EQ("[1,2,6]", "for i in 1..3 return if i = 1 then 1 else i * partial[-1]");
    /* a long loop costs memory in proportion to its length, not its square */
    EQ("20000", "count(for x in 1..20000 return x)");
}

static void test_in_and_ranges(void)
{
    EQ("true", "5 in [1..10]");
    EQ("false", "10 in [1..10)");
    EQ("false", "1 in ]1..10]");
    EQ("true", "5 in (< 10)");
    EQ("true", "5 in < 10");
    EQ("true", "5 in (1, 5, 7)");
    EQ("false", "4 in (1, 5, 7)");
    EQ("true", "5 in [3, 5]");
    EQ("true", "\"b\" in [\"a\"..\"c\"]");
    EQ("true", "12 in (< 5, > 10)");
    EQ("true", "5 in (? > 3)");
}

static void test_contexts_and_functions(void)
{
    EQ("{\"a\":1,\"b\":2}", "{a: 1, b: a + 1}");
    EQ("2", "{a: 1, b: a + 1}.b");
    EQ("{\"first name\":\"x\"}", "{first name: \"x\"}");
    EQ("5", "(function(a, b) a + b)(2, 3)");
    EQ("6", "{f: function(n) if n <= 1 then 1 else n * f(n - 1), r: f(3)}.r");
    EQ("\"bc\"", "substring(string: \"abc\", start position: 2)");
    EQ("null", "nope(1)");
    CHECK_STREQ("no function found with name 'nope'", last_warning);
    EQ("true", "1 instance of number");
    EQ("true", "\"a\" instance of string");
    EQ("false", "\"a\" instance of number");
    EQ("true", "[1] instance of list<number>");
}

static void test_string_functions(void)
{
    EQ("\"obar\"", "substring(\"foobar\", 3)");
    EQ("\"a\"", "substring(\"foobar\", -2, 1)");
    EQ("3", "string length(\"f\xc3\xa9o\")");
    EQ("\"ABC\"", "upper case(\"aBc\")");
    EQ("\"abc\"", "lower case(\"aBc\")");
    EQ("\"\xc3\x84"
       "RGER STRASSE \xc5\x81\xce\xa3\xd0\x96\"",
       "upper case(\"\xc3\xa4rger stra\xc3\x9f"
       "e \xc5\x82\xcf\x83\xd0\xb6\")");
    EQ("\"\xc3\xbc\xc5\x82\xcf\x83\xd0\xb6\xc3\xbf\"",
       "lower case(\"\xc3\x9c\xc5\x81\xce\xa3\xd0\x96\xc5\xb8\")");
    EQ("\"foo\"", "substring before(\"foobar\", \"bar\")");
    EQ("\"ar\"", "substring after(\"foobar\", \"ob\")");
    EQ("true", "contains(\"foobar\", \"of\") or contains(\"foobar\", \"ob\")");
    EQ("true", "starts with(\"foobar\", \"fo\")");
    EQ("true", "ends with(\"foobar\", \"r\")");
    EQ("true", "matches(\"foobar\", \"^fo*b\")");
    EQ("true", "matches(\"FOO\", \"foo\", \"i\")");
    EQ("\"[1]-[2]\"", "replace(\"1-2\", \"(\\d)\", \"[$1]\")");
    EQ("[\"a\",\"b\",\"c\"]", "split(\"a,b,c\", \",\")");
    EQ("[\"a\",\"b\",\"\"]", "split(\"a1b2\", \"\\d\")");
    EQ("[\"a\",\"b\",\"c\",\"\",\"\"]", "split(\"a;b;c;;\", \";\")");
    EQ("\"[1=ab][2=]cd\"", "replace(\"abcd\", \"(ab)|(a)\", \"[1=$1][2=$2]\")");
    EQ("[\"12\",\"3\"]", "extract(\"a12b3\", \"\\d+\")");
    EQ("\"a\"", "trim(\"  a \")");
    EQ("\"a-b\"", "string join([\"a\", \"b\"], \"-\")");
    EQ("\"ab\"", "string join([\"a\", null, \"b\"])");
    EQ("null", "matches(\"a\", \"(\")");
    CHECK_CONTAINS(last_warning, "bad pattern");
}

static void test_list_functions(void)
{
    EQ("true", "list contains([1, 2], 2)");
    EQ("3", "count([1, 2, 3])");
    EQ("1", "min([3, 1, 2])");
    EQ("3", "max(3, 1, 2)");
    EQ("6", "sum([1, 2, 3])");
    EQ("2", "mean([1, 2, 3])");
    EQ("2.5", "median([1, 4, 2, 3])");
    EQ("24", "product(2, 3, 4)");
    EQ("false", "all([true, false])");
    EQ("true", "any([false, true])");
    EQ("[2,3]", "sublist([1, 2, 3], 2)");
    EQ("[1,2,3]", "append([1], 2, 3)");
    EQ("[1,2,3]", "concatenate([1], [2, 3])");
    EQ("[1,9,2]", "insert before([1, 2], 2, 9)");
    EQ("[1,3]", "remove([1, 2, 3], 2)");
    EQ("[3,2,1]", "reverse([1, 2, 3])");
    EQ("[1,3]", "index of([1, 2, 1], 1)");
    EQ("[1,2,3]", "union([1, 2], [2, 3])");
    EQ("[1,2]", "distinct values([1, 2, 1])");
    EQ("[1]", "duplicate values([1, 2, 1])");
    EQ("[1,2,3]", "flatten([1, [2, [3]]])");
    EQ("[3,2,1]", "sort([1, 3, 2], function(a, b) a > b)");
    EQ("[]", "sort([])"); /* found by the fuzzer */
    EQ("[]", "sublist([], 1)");
    EQ("[]", "sublist([1, 2], 3)");
    EQ("true", "is empty([])");
    EQ("2.081665999466132735282297706979931", "stddev(2, 4, 7, 5)");
    EQ("null", "stddev([1])");
    EQ("[6]", "mode(6, 3, 9, 6, 6)");
    EQ("[1,6]", "mode([6, 1, 9, 6, 1])");
    EQ("[]", "mode([])");
    EQ("[[1,2],[3,4],[5]]", "partition([1, 2, 3, 4, 5], 2)");
    EQ("null", "partition([1], 0)");
}

static void test_randomness(void)
{
    const char *src = "{n: random number(), u: uuid()}";
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    CHECK_OK(tandem_feel_compile(src, strlen(src), NULL, &e, &d));
    char first[128] = "";
    for (int round = 0; round < 2; round++) {
        tandem_seeded_rand rnd;
        tandem_seeded_rand_init(&rnd, 42);
        tandem_feel_eval_opts opts = {.rand = &rnd.base};
        tandem_feel_result r;
        tandem_feel_result_init(&r);
        CHECK_OK(tandem_feel_eval(e, &opts, &r, &d));
        tandem_buf b = TANDEM_BUF_INIT;
        CHECK_OK(tandem_feel_result_json(&r, &b));
        CHECK_OK(tandem_buf_put_u8(&b, 0));
        const char *json = (const char *)b.data;
        CHECK_CONTAINS(json, "{\"n\":0.");
        const char *u = strstr(json, "\"u\":\"");
        /* "u":" then 36 characters, a quote and the closing brace */
        CHECK(u != NULL && strlen(u) == 5 + 36 + 2 && u[5 + 14] == '4');
        CHECK(strchr("89ab", u[5 + 19]) != NULL);
        if (round == 0) {
            snprintf(first, sizeof(first), "%s", json);
        } else {
            CHECK_STREQ(first, json); /* the same seed draws the same */
        }
        tandem_buf_free(&b);
        tandem_feel_result_free(&r);
    }
    tandem_feel_expr_free(e);
    EQ("null", "uuid()");
    CHECK_CONTAINS(last_warning, "no source of randomness");
}

static void test_other_functions(void)
{
    EQ("1.2", "decimal(1.25, 1)");
    EQ("1.4", "decimal(1.35, 1)");
    EQ("1", "floor(1.5)");
    EQ("-2", "floor(-1.5)");
    EQ("2", "ceiling(1.2)");
    EQ("2", "round half up(1.5)");
    EQ("1", "round half down(1.5)");
    EQ("2", "round up(1.1)");
    EQ("1", "round down(1.9)");
    EQ("3", "abs(-3)");
    EQ("1", "modulo(-5, 3)");
    EQ("3", "sqrt(9)");
    EQ("true", "odd(3)");
    EQ("true", "even(2)");
    EQ("true", "is defined(1)");
    EQ("true", "is defined(null)");
    EQ("false", "is defined(nope)");
    EQ("false", "is defined({a: 1}.b)");
    EQ("true", "is defined({a: null}.a)");
    EQV("false", "is defined(x.y)", "{\"x\": {}}");
    EQV("true", "is defined(x.y)", "{\"x\": {\"y\": null}}");
    EQ("2", "get or else(null, 2)");
    EQ("1", "get value({a: 1}, \"a\")");
    EQ("[{\"key\":\"a\",\"value\":1}]", "get entries({a: 1})");
    EQ("{\"a\":1,\"b\":2}", "context put({a: 1}, \"b\", 2)");
    EQ("{\"a\":{\"b\":2}}", "context put({}, [\"a\", \"b\"], 2)");
    EQ("{\"a\":2,\"b\":3}", "context merge([{a: 1}, {a: 2, b: 3}])");
    EQ("{\"a\":1}", "context([{key: \"a\", value: 1}])");
    EQ("\"1.5\"", "string(1.5)");
    EQ("\"[1, 2]\"", "string([1, 2])");
    EQ("1234.5", "number(\"1,234.5\", \",\", \".\")");
    EQ("null", "number(\"x\")");
}

/* Examples of the DMN 1.4 specification, section 10.3.4.9. */
static void test_range_functions(void)
{
    EQ("true", "before(1, 10)");
    EQ("false", "before(10, 1)");
    EQ("true", "before([1..5), [5..10])");
    EQ("false", "before([1..5], [5..10])");
    EQ("true", "after([11..20], [1..10])");
    EQ("false", "after([5..10], [5..10])");
    EQ("true", "meets([1..5], [5..10])");
    EQ("false", "meets([1..5), [5..10])");
    EQ("true", "met by([5..10], [1..5])");
    EQ("true", "overlaps([1..5], [3..8])");
    EQ("false", "overlaps([1..5), [5..8])");
    EQ("true", "overlaps before([1..5], [3..8])");
    EQ("false", "overlaps before([1..5], [6..8])");
    EQ("true", "overlaps after([3..8], [1..5])");
    EQ("true", "finishes(10, [1..10])");
    EQ("false", "finishes(10, [1..10))");
    EQ("true", "finishes([5..10], [1..10])");
    EQ("true", "finished by([1..10], [5..10])");
    EQ("true", "includes([1..10], [4..6])");
    EQ("false", "includes([1..10], 12)");
    EQ("true", "during([4..6], [1..10])");
    EQ("true", "starts([1..5], [1..10])");
    EQ("false", "starts((1..5], [1..10])");
    EQ("true", "started by([1..10], 1)");
    EQ("true", "coincides([1..5], [1..5])");
    EQ("false", "coincides([1..5], [2..6])");
    EQ("true", "before(@\"2020-01-01\", [@\"2020-02-01\"..@\"2020-03-01\"])");
    EQ("true", "includes([1..null], 1000000)");
    EQ("null", "before(1, \"a\")");
    CHECK_CONTAINS(last_warning, "before: the values are not comparable");
    EQ("null", "before(null, 1)");
}

static void check_bad_json(const char *json, int code, const char *msg)
{
    tandem_feel_vars *v = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_feel_vars_from_json(json, strlen(json), &v, &d);
    CHECK_MSG(rc == code, "%s returned %s (%s)", json, tandem_errname(rc), d.message);
    CHECK(v == NULL);
    CHECK_MSG(strstr(d.message, msg) != NULL, "%s: \"%s\" lacks \"%s\"", json, d.message, msg);
}

static void test_vars_from_json(void)
{
    check_bad_json("[1]", TANDEM_EINVAL, "must be a JSON object, not list");
    check_bad_json("{\"a\":", TANDEM_EINVAL, "JSON 1:6: expected a value");
    check_bad_json("{\"a\": 1,\n \"b\" 2}", TANDEM_EINVAL, "JSON 2:6: expected ':'");
    check_bad_json("{\"a\": [1 2]}", TANDEM_EINVAL, "JSON 1:10: expected ',' or ']'");
    check_bad_json("{\"a\": 01}", TANDEM_EINVAL, "JSON 1:7: bad number");
    check_bad_json("{\"a\": 1e99999}", TANDEM_EINVAL, "number out of range");
    check_bad_json("{\"a\": \"x\\q\"}", TANDEM_EINVAL, "bad escape");
    check_bad_json("{\"a\": \"\\ud800\"}", TANDEM_EINVAL, "unpaired surrogate");
    check_bad_json("{\"a\": \"\xc3\"}", TANDEM_EINVAL, "invalid UTF-8");
    check_bad_json("{\"a\": \"\x01\"}", TANDEM_EINVAL, "control character");
    check_bad_json("{\"a\": \"open}", TANDEM_EINVAL, "unterminated string");
    check_bad_json("{} x", TANDEM_EINVAL, "JSON 1:4: unexpected text after the value");
    check_bad_json("", TANDEM_EINVAL, "expected a value");
    char deep[200];
    memset(deep, '[', sizeof(deep));
    memcpy(deep, "{\"a\":", 5);
    deep[sizeof(deep) - 1] = '\0';
    check_bad_json(deep, TANDEM_ETOOBIG, "nested deeper than 64 levels");

    EQV("{\"x\":[true,null,\"s\",1.25]}", "{x: a}", "{\"a\": [true, null, \"s\", 1.25]}");
    /* numbers keep their decimal digits, beyond what a double holds */
    EQV("12345678901234567890.5", "n", "{\"n\": 12345678901234567890.5}");
    EQV("0.3", "a + b", "{\"a\": 0.1, \"b\": 0.2}");
    EQV("100000000000000000000000000000", "n", "{\"n\": 1e29}");
    EQV("-0.5", "n", "{\"n\": -5E-1}");
    /* escapes, a repeated key keeps its last value in its first place */
    EQV("\"\\\"/\\n\xc3\xa9\xf0\x9f\x98\x80\"", "s",
        "{\"s\": \"\\\"\\/\\n\\u00e9\\ud83d\\ude00\"}");
    EQV("{\"a\":3,\"b\":2}", "o", "{\"o\": {\"a\": 1, \"b\": 2, \"a\": 3}}");
    EQV("[]", "e", " { \"e\" : [ ] , \"f\" : { } } ");
}

/* Evaluates with limits and expects TANDEM_ETOOBIG naming the limit. */
static void check_limit(const char *src, const tandem_feel_eval_limits *lim, const char *msg)
{
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    CHECK_OK(tandem_feel_compile(src, strlen(src), NULL, &e, &d));
    tandem_feel_eval_opts opts = {.limits = *lim};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    CHECK_RC(TANDEM_ETOOBIG, tandem_feel_eval(e, &opts, &r, &d));
    CHECK_CONTAINS(d.message, msg);
    tandem_feel_result_free(&r);
    tandem_feel_expr_free(e);
}

static void test_limits(void)
{
    tandem_feel_eval_limits lim = {.steps_max = 1000};
    check_limit("for x in 1..100000 return x", &lim, "limit of 1000 steps");
    tandem_feel_eval_limits it = {.iterations_max = 50};
    check_limit("for x in 1..100 return x", &it, "limit of 50 iterations");
    tandem_feel_eval_limits str = {.string_bytes_max = 10};
    check_limit("\"abcdef\" + \"ghijkl\"", &str, "limit of 10 bytes");
    tandem_feel_eval_limits list = {.list_items_max = 10};
    check_limit("for x in 1..20 return x", &list, "limit of 10 items");
    tandem_feel_eval_limits calls = {.call_depth_max = 10};
    check_limit("{f: function(n) f(n + 1), r: f(0)}.r", &calls, "nest deeper than 10");
    /* values nesting without end stop before any walk over them overflows */
    tandem_feel_eval_limits none0 = {0};
    check_limit("for i in 1..100000 return [partial]", &none0, "nest deeper than 100 levels");
    check_limit("{f: function(n) if n = 0 then [] else [f(n - 1)]}.f(150)",
                &(tandem_feel_eval_limits){.call_depth_max = 200}, "nest deeper than 100");
    check_limit("{a: {b: for i in 1..200 return {c: partial}}}", &none0, "nest deeper");
    tandem_feel_eval_limits mem = {.memory_bytes_max = 100000};
    check_limit("for x in 1..100000 return [x, x]", &mem, "more than 100000 bytes");
    /* every allocation that hits the limit reports the limit, not a fault
     * (found by the fuzzer: the loop's own arrays said "out of memory") */
    check_limit("count(for x in 1..20000 return 1)", &mem, "more than 100000 bytes");
    check_limit("count(for x in 1..20000 return \"a\")", &mem, "more than 100000 bytes");
    /* Defaults stop an exponential expression too. */
    tandem_feel_eval_limits none = {0};
    check_limit("for a in 1..1000, b in 1..1000, c in 1..1000 return 1", &none, "evaluation");
}

static void test_result_reuse(void)
{
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    const char *src = "amount > 1000 and status = \"approved\"";
    CHECK_OK(tandem_feel_compile(src, strlen(src), NULL, &e, &d));
    const char *json = "{\"amount\": 1500, \"status\": \"approved\"}";
    tandem_feel_vars *v = NULL;
    CHECK_OK(tandem_feel_vars_from_json(json, strlen(json), &v, &d));
    tandem_feel_eval_opts opts = {.vars = v};
    tandem_feel_result r;
    tandem_feel_result_init(&r);
    for (int i = 0; i < 1000; i++) {
        CHECK_OK(tandem_feel_eval(e, &opts, &r, &d));
        CHECK(r.type == TANDEM_FEEL_BOOLEAN);
        CHECK(tandem_feel_result_is_true(&r));
    }
    tandem_feel_result_free(&r);
    tandem_feel_vars_free(v);
    tandem_feel_expr_free(e);
}

static const tandem_test cases[] = {
    {"arithmetic", test_arithmetic},
    {"comparison_and_logic", test_comparison_and_logic},
    {"variables_and_paths", test_variables_and_paths},
    {"filters", test_filters},
    {"control", test_control},
    {"in_and_ranges", test_in_and_ranges},
    {"contexts_and_functions", test_contexts_and_functions},
    {"string_functions", test_string_functions},
    {"list_functions", test_list_functions},
    {"other_functions", test_other_functions},
    {"range_functions", test_range_functions},
    {"randomness", test_randomness},
    {"vars_from_json", test_vars_from_json},
    {"limits", test_limits},
    {"result_reuse", test_result_reuse},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
