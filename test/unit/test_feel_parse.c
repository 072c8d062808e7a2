/*
 * test_feel_parse.c — the FEEL lexer and parser: trees of every construct,
 * errors with their positions, and the limits.
 */
#include "base/buf.h"
#include "base/error.h"
#include "feel/feel.h"
#include "test.h"

/* Compiles src and checks its S-expression. */
static void check_tree(const char *src, const char *expected)
{
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_feel_compile(src, strlen(src), NULL, &e, &d);
    CHECK_MSG(rc == 0, "compile \"%s\": %s", src, d.message);
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_feel_expr_dump(e, &b));
    CHECK_OK(tandem_buf_put_u8(&b, 0));
    CHECK_MSG(strcmp((const char *)b.data, expected) == 0, "\"%s\" gave %s, expected %s", src,
              (const char *)b.data, expected);
    tandem_buf_free(&b);
    tandem_feel_expr_free(e);
}

/* Compiles src, expects failure with `code` and a message containing `msg`. */
static void check_error(const char *src, int code, const char *msg)
{
    tandem_feel_expr *e = (tandem_feel_expr *)1;
    tandem_diag d;
    tandem_diag_clear(&d);
    int rc = tandem_feel_compile(src, strlen(src), NULL, &e, &d);
    CHECK_MSG(rc == code, "\"%s\" returned %s (%s)", src, tandem_errname(rc), d.message);
    CHECK(e == NULL);
    CHECK_MSG(strstr(d.message, msg) != NULL, "\"%s\": message \"%s\" lacks \"%s\"", src, d.message,
              msg);
}

static void test_literals(void)
{
    check_tree("1", "1");
    check_tree("1.50", "1.50");
    check_tree(".5", ".5");
    check_tree("\"a\\\"b\\n\"", "\"a\\\"b\\n\"");
    check_tree("\"\\u00e9\\ud83d\\ude00\"", "\"\xc3\xa9\xf0\x9f\x98\x80\"");
    check_tree("\"\\d+\"", "\"\\\\d+\"");
    check_tree("true", "true");
    check_tree("false", "false");
    check_tree("null", "null");
    check_tree("@\"2024-01-01\"", "@\"2024-01-01\"");
    check_tree("[]", "(list)");
    check_tree("[1, \"a\", [2]]", "(list 1 \"a\" (list 2))");
    check_tree("{}", "(context)");
    check_tree("{a: 1, \"b c\": 2, first name: 3}",
               "(context (entry a 1) (entry `b c` 2) (entry `first name` 3))");
    check_tree("// comment\n 1 /* two */ + 2", "(+ 1 2)");
}

static void test_operators(void)
{
    check_tree("1 + 2 * 3", "(+ 1 (* 2 3))");
    check_tree("(1 + 2) * 3", "(* (+ 1 2) 3)");
    check_tree("1 - 2 - 3", "(- (- 1 2) 3)");
    check_tree("2 ** 3 * 4", "(* (** 2 3) 4)");
    check_tree("-x + 1", "(+ (neg x) 1)");
    check_tree("a or b and c", "(or a (and b c))");
    check_tree("amount > 1000 and status = \"approved\"",
               "(and (> amount 1000) (= status \"approved\"))");
    check_tree("a != b", "(!= a b)");
    check_tree("a <= b or a >= c", "(or (<= a b) (>= a c))");
    check_tree("x between 1 and 10", "(between x 1 10)");
    check_tree("x between 1 and 10 and y", "(and (between x 1 10) y)");
    check_tree("x instance of number", "(instance number x)");
    check_tree("x instance of date and time", "(instance `date and time` x)");
    check_tree("x instance of list<number>", "(instance list<number> x)");
    check_tree("not(true)", "(call not true)");
}

static void test_in_and_ranges(void)
{
    check_tree("x in [1..10]", "(in x [1..10])");
    check_tree("x in (1..10)", "(in x (1..10))");
    check_tree("x in ]1..10[", "(in x (1..10))");
    check_tree("x in [1..10)", "(in x [1..10))");
    check_tree("x in < 5", "(in x (<? 5))");
    check_tree("x in (< 5, > 10)", "(in x (tests (<? 5) (>? 10)))");
    check_tree("x in (1, 2, 3)", "(in x (tests 1 2 3))");
    check_tree("x in (1)", "(in x 1)");
    check_tree("x in [1, 2]", "(in x (list 1 2))");
    check_tree("x in \"a\"", "(in x \"a\")");
    check_tree("x in (a+1..b)", "(in x ((+ a 1)..b))");
}

static void test_paths_filters_calls(void)
{
    check_tree("a.b.c", "(path c (path b a))");
    check_tree("items[price > 10].name", "(path name (filter items (> price 10)))");
    check_tree("list[1]", "(filter list 1)");
    check_tree("list[-1]", "(filter list (neg 1))");
    check_tree("{total: sum(items.price)}",
               "(context (entry total (call sum (path price items))))");
    check_tree("string length(\"abc\")", "(call `string length` \"abc\")");
    check_tree("date and time(\"2020-01-01T00:00:00\")",
               "(call `date and time` \"2020-01-01T00:00:00\")");
    check_tree("substring(string: \"abc\", start position: 2)",
               "(call substring (arg string \"abc\") (arg `start position` 2))");
    check_tree("f()", "(call f)");
    check_tree("f(1)(2)", "(call (call f 1) 2)");
    check_tree("x.then", "(path then x)");
    check_tree("`my var` + 1", "(+ `my var` 1)");
    check_tree("round half up(1.5, 0)", "(call `round half up` 1.5 0)");
    check_tree("date and true", "(and date true)");
}

static void test_textual(void)
{
    check_tree("if a > 1 then \"big\" else \"small\"", "(if (> a 1) \"big\" \"small\")");
    check_tree("if a then b else if c then d else e", "(if a b (if c d e))");
    check_tree("for x in [1,2] return x * 2", "(for (iter x (list 1 2)) (* x 2))");
    check_tree("for x in 1..3, y in 4..5 return x + y", "(for (iter x 1 3) (iter y 4 5) (+ x y))");
    check_tree("some x in xs satisfies x > 3", "(some (iter x xs) (> x 3))");
    check_tree("every x in xs, y in ys satisfies x < y", "(every (iter x xs) (iter y ys) (< x y))");
    check_tree("function(a, b) a + b", "(function a b (+ a b))");
    check_tree("function(a: number) a", "(function a a)");
    check_tree("{f: function(n) n * 2, r: f(3)}.r",
               "(path r (context (entry f (function n (* n 2))) (entry r (call f 3))))");
    check_tree("1 + if x then 1 else 2", "(+ 1 (if x 1 2))");
}

static void test_errors_have_positions(void)
{
    check_error("", TANDEM_EINVAL, "1:1: empty expression");
    check_error("   ", TANDEM_EINVAL, "1:4: empty expression");
    check_error("1 +", TANDEM_EINVAL, "1:4: expected an expression but found end of input");
    check_error("(1 + 2", TANDEM_EINVAL, "1:7: expected ')'");
    check_error("a\n  + * b", TANDEM_EINVAL, "2:5: expected an expression but found '*'");
    check_error("\"abc", TANDEM_EINVAL, "1:1: unterminated string");
    check_error("1 # 2", TANDEM_EINVAL, "1:3: unexpected character '#'");
    check_error("/* x", TANDEM_EINVAL, "1:1: unterminated comment");
    check_error("\"\\u12\"", TANDEM_EINVAL, "1:2: bad \\u escape");
    check_error("\"\\ud800\"", TANDEM_EINVAL, "unpaired surrogate");
    check_error("if a then b", TANDEM_EINVAL, "1:12: expected 'else'");
    check_error("1 2", TANDEM_EINVAL, "1:3: expected end of input but found '2'");
    check_error("[1..", TANDEM_EINVAL, "expected an expression");
    check_error("[1..2", TANDEM_EINVAL, "expected ']', ')' or '['");
    check_error("{a 1}", TANDEM_EINVAL, "1:4: expected ':'");
    check_error("{1: 2}", TANDEM_EINVAL, "expected a context key");
    check_error("for 1 in x return 1", TANDEM_EINVAL, "1:5: expected a variable name");
    check_error("f(a: 1, 2)", TANDEM_EINVAL, "1:9: expected a named argument");
    check_error("x instance of 3", TANDEM_EINVAL, "expected a type name");
    check_error("@1", TANDEM_EINVAL, "expected a string after '@'");
    check_error("\xc3\xa9 + #", TANDEM_EINVAL, "1:5: unexpected character");
    const char nul[] = "1 \0 2";
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    CHECK_RC(TANDEM_EINVAL, tandem_feel_compile(nul, sizeof(nul) - 1, NULL, &e, &d));
    CHECK_CONTAINS(d.message, "1:3: NUL character");
}

static void test_limits(void)
{
    tandem_feel_limits lim = {.expr_bytes_max = 10, .depth_max = 8};
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    CHECK_RC(TANDEM_ETOOBIG, tandem_feel_compile("1 + 2 + 3 + 4", 13, &lim, &e, &d));
    CHECK_CONTAINS(d.message, "13 bytes long, the limit is 10 bytes");
    CHECK(e == NULL);

    lim.expr_bytes_max = 0;
    CHECK_OK(tandem_feel_compile("((((((1))))))", 13, &lim, &e, &d));
    tandem_feel_expr_free(e);
    CHECK_RC(TANDEM_ETOOBIG, tandem_feel_compile("(((((((((1)))))))))", 19, &lim, &e, &d));
    CHECK_CONTAINS(d.message, "nested too deeply");
    CHECK_RC(TANDEM_ETOOBIG, tandem_feel_compile("1+1+1+1+1+1+1+1+1+1", 19, &lim, &e, &d));
    CHECK_CONTAINS(d.message, "nested too deeply");
    CHECK_RC(TANDEM_ETOOBIG, tandem_feel_compile("- - - - - - - - - 1", 19, &lim, &e, &d));

    /* The default depth stops a deep expression without exhausting the stack. */
    enum { deep = 100000 };
    char *src = malloc(2 * deep + 1);
    CHECK(src != NULL);
    memset(src, '[', deep);
    src[deep] = '1';
    memset(src + deep + 1, ']', deep - 1);
    src[2 * deep] = '\0';
    tandem_feel_limits big = {.expr_bytes_max = 4 * deep};
    CHECK_RC(TANDEM_ETOOBIG, tandem_feel_compile(src, 2 * deep, &big, &e, &d));
    CHECK_CONTAINS(d.message, "nested too deeply");
    free(src);

    /* Many items in one list are fine: breadth is not depth. */
    tandem_buf b = TANDEM_BUF_INIT;
    CHECK_OK(tandem_buf_put_u8(&b, '['));
    for (int i = 0; i < 5000; i++) {
        CHECK_OK(tandem_buf_append(&b, i == 0 ? "1" : ",1", i == 0 ? 1 : 2));
    }
    CHECK_OK(tandem_buf_put_u8(&b, ']'));
    CHECK_OK(tandem_feel_compile((const char *)b.data, b.len, NULL, &e, &d));
    tandem_feel_expr_free(e);
    tandem_buf_free(&b);
}

/* `in (` reads in one pass: nesting that defeats a first reading must not
 * cost time exponential in its depth (found by the fuzzer). */
static void test_nested_in_is_linear(void)
{
    tandem_buf b = TANDEM_BUF_INIT;
    for (int i = 0; i < 40; i++) {
        CHECK_OK(tandem_buf_append(&b, "1 in (", 6));
    }
    CHECK_OK(tandem_buf_put_u8(&b, '1'));
    for (int i = 0; i < 40; i++) {
        CHECK_OK(tandem_buf_append(&b, " or x)", 6));
    }
    tandem_feel_limits lim = {.depth_max = 1000};
    tandem_feel_expr *e = NULL;
    tandem_diag d;
    CHECK_OK(tandem_feel_compile((const char *)b.data, b.len, &lim, &e, &d));
    tandem_feel_expr_free(e);
    tandem_buf_free(&b);
    check_tree("x in (a or b)", "(in x (or a b))");
    check_tree("x in (< 1, a or b)", "(in x (tests (<? 1) (or a b)))");
    check_error("x in (< 1..5)", TANDEM_EINVAL, "expected ')'");
}

static const tandem_test cases[] = {
    {"literals", test_literals},
    {"operators", test_operators},
    {"in_and_ranges", test_in_and_ranges},
    {"paths_filters_calls", test_paths_filters_calls},
    {"textual", test_textual},
    {"errors_have_positions", test_errors_have_positions},
    {"limits", test_limits},
    {"nested_in_is_linear", test_nested_in_is_linear},
    {NULL, NULL},
};

TANDEM_TEST_MAIN(cases)
