import assert from "node:assert/strict";
import fc from "fast-check";
import {
  type Config,
  ConfigError,
  isLoopbackHost,
  parseConfig,
  parseDefaultBudget,
} from "../src/config.ts";

function configErrorOf(env: Record<string, string | undefined>): ConfigError {
  try {
    parseConfig(env);
  } catch (error) {
    assert.ok(error instanceof ConfigError, `expected a ConfigError, got ${error}`);
    return error;
  }
  assert.fail(`expected ${JSON.stringify(env)} to be refused`);
}

/** The problem line naming a variable; fails when there is not exactly one. */
function problemFor(error: ConfigError, name: string): string {
  const lines = error.problems.filter((p) => p.startsWith(`${name}:`));
  assert.equal(lines.length, 1, `expected one problem for ${name} in ${error.message}`);
  return lines[0] ?? "";
}

function defaults(): Config {
  return {
    host: "127.0.0.1",
    port: 8000,
    env: "development",
    keysFile: undefined,
    routingFile: undefined,
    dbPath: "./choreoai.db",
    responsesTtlMs: 30 * 86_400_000,
    redisUrl: undefined,
    databaseUrl: undefined,
    upstreamTimeoutMs: 600_000,
    maxBodyBytes: 20_971_520,
    maxResponseBytes: 67_108_864,
    bodyTimeoutMs: 30_000,
    drainMs: 25_000,
    corsOrigins: [],
    trustedProxies: [],
    defaultRpm: undefined,
    defaultTpm: undefined,
    defaultBudget: undefined,
    fetchImageUrls: false,
    upstreamClient: "http1",
    metrics: true,
    tracing: false,
    pricesUpdate: false,
    providers: {
      openai: { apiKey: undefined, baseUrl: "https://api.openai.com/v1" },
      anthropic: { apiKey: undefined, baseUrl: "https://api.anthropic.com" },
      azure: { apiKey: undefined, baseUrl: "", apiVersion: "2024-10-21" },
      gemini: { apiKey: undefined, baseUrl: "https://generativelanguage.googleapis.com" },
    },
  };
}

Deno.test("parseConfig() gives the documented defaults for an empty environment", () => {
  assert.deepEqual(parseConfig({}), defaults());
});

Deno.test("parseConfig() treats an empty value as unset", () => {
  const names = [
    "CHOREOAI_HOST",
    "CHOREOAI_PORT",
    "CHOREOAI_KEYS_FILE",
    "CHOREOAI_ENV",
    "CHOREOAI_CONFIG",
    "CHOREOAI_DB",
    "CHOREOAI_RESPONSES_TTL",
    "CHOREOAI_REDIS_URL",
    "CHOREOAI_UPSTREAM_TIMEOUT_MS",
    "CHOREOAI_MAX_BODY_BYTES",
    "CHOREOAI_MAX_RESPONSE_BYTES",
    "CHOREOAI_BODY_TIMEOUT_MS",
    "CHOREOAI_DRAIN_MS",
    "CHOREOAI_CORS_ORIGINS",
    "CHOREOAI_TRUSTED_PROXIES",
    "CHOREOAI_DEFAULT_RPM",
    "CHOREOAI_DEFAULT_TPM",
    "CHOREOAI_DEFAULT_BUDGET_USD",
    "CHOREOAI_DEFAULT_BUDGET_PERIOD",
    "OTEL_DENO",
    "OPENAI_API_KEY",
    "OPENAI_BASE_URL",
    "ANTHROPIC_API_KEY",
    "ANTHROPIC_BASE_URL",
    "AZURE_OPENAI_API_KEY",
    "AZURE_OPENAI_ENDPOINT",
    "AZURE_OPENAI_API_VERSION",
    "GEMINI_API_KEY",
    "GEMINI_BASE_URL",
  ];
  const env = Object.fromEntries(names.map((name) => [name, ""]));
  assert.deepEqual(parseConfig(env), defaults());
});

Deno.test("parseConfig() reads every variable", () => {
  const config = parseConfig({
    CHOREOAI_HOST: "0.0.0.0",
    CHOREOAI_PORT: "9090",
    CHOREOAI_KEYS_FILE: "/etc/choreoai/keys.json",
    CHOREOAI_ENV: "production",
    CHOREOAI_CONFIG: "/etc/choreoai/routing.json",
    CHOREOAI_DB: "/var/lib/choreoai/usage.db",
    CHOREOAI_RESPONSES_TTL: "12h",
    CHOREOAI_REDIS_URL: "rediss://:pw@redis.internal:6380/2",
    CHOREOAI_DATABASE_URL: "postgres://choreoai:pw@db.internal:5432/choreoai",
    CHOREOAI_UPSTREAM_TIMEOUT_MS: "1500",
    CHOREOAI_MAX_BODY_BYTES: "1024",
    CHOREOAI_MAX_RESPONSE_BYTES: "4096",
    CHOREOAI_BODY_TIMEOUT_MS: "250",
    CHOREOAI_DRAIN_MS: "0",
    CHOREOAI_CORS_ORIGINS: "https://app.example.com, http://localhost:3000,,",
    CHOREOAI_TRUSTED_PROXIES: "10.0.0.0/8, 192.168.1.7,2001:db8::/32,::1",
    CHOREOAI_DEFAULT_RPM: "60",
    CHOREOAI_DEFAULT_TPM: "100000",
    CHOREOAI_DEFAULT_BUDGET_USD: "250.5",
    CHOREOAI_DEFAULT_BUDGET_PERIOD: "day",
    CHOREOAI_FETCH_IMAGE_URLS: "true",
    CHOREOAI_UPSTREAM_CLIENT: "fetch",
    CHOREOAI_METRICS: "false",
    CHOREOAI_PRICES_UPDATE: "true",
    OTEL_DENO: "TRUE",
    OPENAI_API_KEY: "sk-openai",
    OPENAI_BASE_URL: "http://127.0.0.1:8001/v1/",
    ANTHROPIC_API_KEY: "sk-ant",
    ANTHROPIC_BASE_URL: "https://anthropic.example.com//",
    AZURE_OPENAI_API_KEY: "az-key",
    AZURE_OPENAI_ENDPOINT: "https://eu.openai.azure.com/",
    AZURE_OPENAI_API_VERSION: "2025-01-01-preview",
    GEMINI_API_KEY: "gm-key",
    GEMINI_BASE_URL: "https://gemini.example.com",
  });
  assert.deepEqual(config, {
    host: "0.0.0.0",
    port: 9090,
    env: "production",
    keysFile: "/etc/choreoai/keys.json",
    routingFile: "/etc/choreoai/routing.json",
    dbPath: "/var/lib/choreoai/usage.db",
    responsesTtlMs: 12 * 3_600_000,
    redisUrl: "rediss://:pw@redis.internal:6380/2",
    databaseUrl: "postgres://choreoai:pw@db.internal:5432/choreoai",
    upstreamTimeoutMs: 1500,
    maxBodyBytes: 1024,
    maxResponseBytes: 4096,
    bodyTimeoutMs: 250,
    drainMs: 0,
    corsOrigins: ["https://app.example.com", "http://localhost:3000"],
    trustedProxies: ["10.0.0.0/8", "192.168.1.7", "2001:db8::/32", "::1"],
    defaultRpm: 60,
    defaultTpm: 100_000,
    defaultBudget: { usd: 250.5, period: "day" },
    fetchImageUrls: true,
    upstreamClient: "fetch",
    metrics: false,
    tracing: true,
    pricesUpdate: true,
    providers: {
      openai: { apiKey: "sk-openai", baseUrl: "http://127.0.0.1:8001/v1" },
      anthropic: { apiKey: "sk-ant", baseUrl: "https://anthropic.example.com" },
      azure: {
        apiKey: "az-key",
        baseUrl: "https://eu.openai.azure.com",
        apiVersion: "2025-01-01-preview",
      },
      gemini: { apiKey: "gm-key", baseUrl: "https://gemini.example.com" },
    },
  });
});

Deno.test("parseConfig() accepts the edges of each range", async (t) => {
  const cases: [string, Record<string, string>, (c: Config) => unknown, unknown][] = [
    ["port 0 (pick a free one)", { CHOREOAI_PORT: "0" }, (c) => c.port, 0],
    ["port 65535", { CHOREOAI_PORT: "65535" }, (c) => c.port, 65535],
    ["drain 0", { CHOREOAI_DRAIN_MS: "0" }, (c) => c.drainMs, 0],
    ["body bytes 1", { CHOREOAI_MAX_BODY_BYTES: "1" }, (c) => c.maxBodyBytes, 1],
    ["response bytes 1", { CHOREOAI_MAX_RESPONSE_BYTES: "1" }, (c) => c.maxResponseBytes, 1],
    ["cors *", { CHOREOAI_CORS_ORIGINS: "*" }, (c) => c.corsOrigins, ["*"]],
    ["tracing on", { OTEL_DENO: "true" }, (c) => c.tracing, true],
    ["tracing off, as Deno spells it too", { OTEL_DENO: "False" }, (c) => c.tracing, false],
    ["responses TTL 1s", { CHOREOAI_RESPONSES_TTL: "1s" }, (c) => c.responsesTtlMs, 1000],
    ["responses TTL 90m", { CHOREOAI_RESPONSES_TTL: "90m" }, (c) => c.responsesTtlMs, 5_400_000],
    [
      "redis://",
      { CHOREOAI_REDIS_URL: "redis://localhost" },
      (c) => c.redisUrl,
      "redis://localhost",
    ],
    [
      "a budget without a period is monthly",
      { CHOREOAI_DEFAULT_BUDGET_USD: "100" },
      (c) => c.defaultBudget,
      { usd: 100, period: "month" },
    ],
    [
      "a total budget of one micro-dollar",
      { CHOREOAI_DEFAULT_BUDGET_USD: "0.000001", CHOREOAI_DEFAULT_BUDGET_PERIOD: "total" },
      (c) => c.defaultBudget,
      { usd: 0.000001, period: "total" },
    ],
    [
      "the largest budget",
      { CHOREOAI_DEFAULT_BUDGET_USD: "1000000000" },
      (c) => c.defaultBudget?.usd,
      1_000_000_000,
    ],
  ];
  for (const [name, env, read, expected] of cases) {
    await t.step(name, () => {
      assert.deepEqual(read(parseConfig(env)), expected);
    });
  }
});

Deno.test("parseConfig() names each bad variable in its ConfigError", async (t) => {
  const cases: [string, string, string][] = [
    ["port abc", "CHOREOAI_PORT", "abc"],
    ["port 70000", "CHOREOAI_PORT", "70000"],
    ["port -1", "CHOREOAI_PORT", "-1"],
    ["port with a space", "CHOREOAI_PORT", " 80"],
    ["host with a space", "CHOREOAI_HOST", "my host"],
    ["unknown CHOREOAI_ENV", "CHOREOAI_ENV", "staging"],
    ["CHOREOAI_ENV in capitals", "CHOREOAI_ENV", "PRODUCTION"],
    ["negative int", "CHOREOAI_DRAIN_MS", "-5"],
    ["decimal int", "CHOREOAI_UPSTREAM_TIMEOUT_MS", "1.5"],
    ["zero where 1 is the minimum", "CHOREOAI_BODY_TIMEOUT_MS", "0"],
    ["int with unit", "CHOREOAI_MAX_BODY_BYTES", "20MB"],
    ["response bytes 0", "CHOREOAI_MAX_RESPONSE_BYTES", "0"],
    ["responses TTL without a unit", "CHOREOAI_RESPONSES_TTL", "30"],
    ["responses TTL of 0", "CHOREOAI_RESPONSES_TTL", "0"],
    ["responses TTL in weeks", "CHOREOAI_RESPONSES_TTL", "2w"],
    ["responses TTL with a fraction", "CHOREOAI_RESPONSES_TTL", "1.5d"],
    ["decimal rpm", "CHOREOAI_DEFAULT_RPM", "0.5"],
    ["negative tpm", "CHOREOAI_DEFAULT_TPM", "-100"],
    ["budget with a dollar sign", "CHOREOAI_DEFAULT_BUDGET_USD", "$100"],
    ["budget of 0", "CHOREOAI_DEFAULT_BUDGET_USD", "0"],
    ["budget below a micro-dollar", "CHOREOAI_DEFAULT_BUDGET_USD", "0.0000001"],
    ["budget past the largest", "CHOREOAI_DEFAULT_BUDGET_USD", "1000000001"],
    ["negative budget", "CHOREOAI_DEFAULT_BUDGET_USD", "-5"],
    ["image fetching not a boolean", "CHOREOAI_FETCH_IMAGE_URLS", "yes"],
    ["unknown upstream client", "CHOREOAI_UPSTREAM_CLIENT", "undici"],
    ["metrics not a boolean", "CHOREOAI_METRICS", "on"],
    ["price updates not a boolean", "CHOREOAI_PRICES_UPDATE", "yes"],
    ["OTEL_DENO not true or false (Deno ignores it)", "OTEL_DENO", "1"],
    ["bad URL", "OPENAI_BASE_URL", "not a url"],
    ["ftp:// URL", "OPENAI_BASE_URL", "ftp://files.example.com"],
    ["URL without scheme", "ANTHROPIC_BASE_URL", "api.anthropic.com"],
    ["bad gemini URL", "GEMINI_BASE_URL", "file:///etc/passwd"],
    ["bad azure endpoint", "AZURE_OPENAI_ENDPOINT", "eu.openai.azure.com"],
    ["bad azure version", "AZURE_OPENAI_API_VERSION", "latest"],
    ["CIDR prefix too long", "CHOREOAI_TRUSTED_PROXIES", "10.0.0.0/33"],
    ["CIDR that is a name", "CHOREOAI_TRUSTED_PROXIES", "10.0.0.0/8,proxy.internal"],
    ["IPv4 out of range", "CHOREOAI_TRUSTED_PROXIES", "300.1.1.1"],
    ["origin with a path", "CHOREOAI_CORS_ORIGINS", "https://app.example.com/app"],
    ["origin without scheme", "CHOREOAI_CORS_ORIGINS", "app.example.com"],
    ["one bad origin in a list", "CHOREOAI_CORS_ORIGINS", "https://ok.example.com,nope"],
    ["http:// redis URL", "CHOREOAI_REDIS_URL", "http://redis.internal:6379"],
    ["redis URL that is not a URL", "CHOREOAI_REDIS_URL", "redis.internal:6379"],
  ];
  for (const [name, variable, value] of cases) {
    await t.step(name, () => {
      const error = configErrorOf({ [variable]: value });
      assert.equal(error.name, "ConfigError");
      assert.deepEqual(
        error.problems.map((p) => p.slice(0, p.indexOf(":"))),
        [variable],
      );
      const line = problemFor(error, variable);
      assert.ok(line.includes(JSON.stringify(value)), `${line} should show the bad value`);
      assert.ok(error.message.includes(line));
    });
  }
});

Deno.test("parseConfig() refuses a budget period that names no budget, or no period", async (t) => {
  await t.step("a period without an amount", () => {
    const error = configErrorOf({ CHOREOAI_DEFAULT_BUDGET_PERIOD: "day" });
    assert.match(
      problemFor(error, "CHOREOAI_DEFAULT_BUDGET_PERIOD"),
      /without CHOREOAI_DEFAULT_BUDGET_USD/,
    );
  });
  await t.step("an unknown period", () => {
    const error = configErrorOf({
      CHOREOAI_DEFAULT_BUDGET_USD: "5",
      CHOREOAI_DEFAULT_BUDGET_PERIOD: "week",
    });
    assert.match(problemFor(error, "CHOREOAI_DEFAULT_BUDGET_PERIOD"), /day, month or total/);
  });
});

Deno.test("parseDefaultBudget() reads the two budget variables alone", async (t) => {
  await t.step(
    "none set",
    () => assert.equal(parseDefaultBudget({ CHOREOAI_PORT: "x" }), undefined),
  );
  await t.step("both set", () => {
    assert.deepEqual(
      parseDefaultBudget({
        CHOREOAI_DEFAULT_BUDGET_USD: "12",
        CHOREOAI_DEFAULT_BUDGET_PERIOD: "day",
      }),
      { usd: 12, period: "day" },
    );
  });
  await t.step("a bad amount", () => {
    assert.throws(
      () => parseDefaultBudget({ CHOREOAI_DEFAULT_BUDGET_USD: "lots" }),
      (error) => error instanceof ConfigError && /CHOREOAI_DEFAULT_BUDGET_USD/.test(error.message),
    );
  });
});

Deno.test("parseConfig() names several bad variables in one ConfigError", () => {
  const error = configErrorOf({
    CHOREOAI_PORT: "abc",
    CHOREOAI_ENV: "staging",
    CHOREOAI_DRAIN_MS: "-1",
    OPENAI_BASE_URL: "ftp://x",
    CHOREOAI_TRUSTED_PROXIES: "10.0.0.0/99",
    CHOREOAI_CORS_ORIGINS: "nope",
    CHOREOAI_REDIS_URL: "http://x",
  });
  const named = error.problems.map((p) => p.slice(0, p.indexOf(":"))).sort();
  assert.deepEqual(named, [
    "CHOREOAI_CORS_ORIGINS",
    "CHOREOAI_DRAIN_MS",
    "CHOREOAI_ENV",
    "CHOREOAI_PORT",
    "CHOREOAI_REDIS_URL",
    "CHOREOAI_TRUSTED_PROXIES",
    "OPENAI_BASE_URL",
  ]);
  for (const name of named) assert.ok(error.message.includes(name));
});

Deno.test("parseConfig() refuses production without a key list", async (t) => {
  for (const keysFile of [undefined, ""]) {
    await t.step(`CHOREOAI_KEYS_FILE=${JSON.stringify(keysFile)}`, () => {
      const error = configErrorOf({ CHOREOAI_ENV: "production", CHOREOAI_KEYS_FILE: keysFile });
      assert.match(problemFor(error, "CHOREOAI_KEYS_FILE"), /production/);
    });
  }
  await t.step("with a key list it starts", () => {
    const config = parseConfig({ CHOREOAI_ENV: "production", CHOREOAI_KEYS_FILE: "keys.json" });
    assert.equal(config.env, "production");
    assert.equal(config.keysFile, "keys.json");
  });
});

Deno.test("parseConfig() requires an Azure endpoint when an Azure key is set", () => {
  const error = configErrorOf({ AZURE_OPENAI_API_KEY: "az-secret-value" });
  problemFor(error, "AZURE_OPENAI_ENDPOINT");
});

Deno.test("parseConfig() never echoes a secret value", () => {
  const secrets = {
    OPENAI_API_KEY: "sk-live-SECRET-openai-0123456789",
    ANTHROPIC_API_KEY: "sk-ant-SECRET-0123456789",
    AZURE_OPENAI_API_KEY: "SECRET-azure-0123456789",
    GEMINI_API_KEY: "SECRET-gemini-0123456789",
  };
  const error = configErrorOf({
    ...secrets,
    CHOREOAI_PORT: "abc",
    OPENAI_BASE_URL: "ftp://x",
    CHOREOAI_ENV: "production",
  });
  assert.ok(error.problems.length >= 4, error.message);
  const visible = [error.message, String(error), ...error.problems].join("\n");
  for (const secret of Object.values(secrets)) {
    assert.ok(!visible.includes(secret), `${secret} leaked into: ${visible}`);
  }
});

Deno.test("parseConfig() masks the user-info and the query of a URL setting it shows", async (t) => {
  const cases: [string, string, string, string][] = [
    // [case, variable, bad value, as the error shows it]
    [
      "malformed Redis URL (a space)",
      "CHOREOAI_REDIS_URL",
      "redis://default:hunter2-pw@redis internal:6379/0",
      "redis://***@redis internal:6379/0",
    ],
    [
      "Redis URL with the wrong scheme",
      "CHOREOAI_REDIS_URL",
      "http://user:hunter2-pw@redis.internal:6379",
      "http://***@redis.internal:6379",
    ],
    [
      "password with an unencoded @ and /",
      "CHOREOAI_REDIS_URL",
      "redis://:hun@ter/2-pw@redis.internal:6379",
      "redis://***@redis.internal:6379",
    ],
    [
      "no host after the password",
      "CHOREOAI_REDIS_URL",
      "redis://:hunter2-pw",
      "redis://***",
    ],
    [
      "one slash after the scheme",
      "CHOREOAI_REDIS_URL",
      "redis:/user:hunter2-pw@redis.internal",
      "redis:/***@redis.internal",
    ],
    ["no scheme", "CHOREOAI_REDIS_URL", "user:hunter2-pw@redis.internal", "***@redis.internal"],
    [
      "Redis database that is not a number",
      "CHOREOAI_REDIS_URL",
      "redis://:hunter2-pw@redis.internal:6379/cache",
      "redis://***@redis.internal:6379/cache",
    ],
    [
      "Redis password that is not valid percent-encoding",
      "CHOREOAI_REDIS_URL",
      "redis://:hunter2-pw%zz@redis.internal:6379",
      "redis://***@redis.internal:6379",
    ],
    [
      "OpenAI base URL",
      "OPENAI_BASE_URL",
      "ftp://user:hunter2-pw@llm.internal/v1",
      "ftp://***@llm.internal/v1",
    ],
    [
      "Anthropic base URL",
      "ANTHROPIC_BASE_URL",
      "https://user:hunter2-pw@llm.internal:99999",
      "https://***@llm.internal:99999",
    ],
    [
      "Azure endpoint",
      "AZURE_OPENAI_ENDPOINT",
      "https://user:hunter2-pw@ bad.openai.azure.com",
      "https://***@ bad.openai.azure.com",
    ],
    [
      "Gemini base URL with a key in its query",
      "GEMINI_BASE_URL",
      "file://gemini.internal/v1beta?key=hunter2-pw&alt=sse",
      "file://gemini.internal/v1beta?***",
    ],
    [
      "CORS origins, each one masked",
      "CHOREOAI_CORS_ORIGINS",
      "https://a:hunter2-pw@app.example.com,https://app.example.com/x",
      "https://***@app.example.com,https://app.example.com/x",
    ],
  ];
  for (const [name, variable, value, shown] of cases) {
    await t.step(name, () => {
      const line = problemFor(configErrorOf({ [variable]: value }), variable);
      assert.ok(!line.includes("hunter2-pw"), `the password leaked into: ${line}`);
      assert.ok(!line.includes("hun@ter"), `part of the password leaked into: ${line}`);
      assert.ok(line.endsWith(`(got ${JSON.stringify(shown)})`), line);
    });
  }
});

Deno.test("parseConfig() shows no password of a URL setting, whatever the password", () => {
  const URL_VARIABLES = [
    "CHOREOAI_REDIS_URL",
    "OPENAI_BASE_URL",
    "ANTHROPIC_BASE_URL",
    "AZURE_OPENAI_ENDPOINT",
    "GEMINI_BASE_URL",
    "CHOREOAI_CORS_ORIGINS",
  ];
  // Shapes that are refused: malformed, wrong scheme, bad port, no host, a path where a Redis
  // database goes, a missing "//", no "@" at all. PW is replaced by the generated password.
  const SHAPES = [
    "redis://user:PW@host:6379/0 x",
    "redis://:PW@",
    "redis://:PW",
    "redis:PW@host",
    "redis:/PW@host",
    "ftp://user:PW@host/v1",
    "https://user:PW@host:99999/v1",
    "https://PW@host/path with space",
    "PW@host",
    "gopher://host/v1?token=PW",
    "https://u:PW@a.example.com,nope",
  ];
  fc.assert(
    fc.property(
      fc.constantFrom(...URL_VARIABLES),
      fc.constantFrom(...SHAPES),
      // Distinct enough that finding it in the message means it leaked (8 spaces would not).
      // One that starts with "@" cannot be told from a host ("redis://:@host" shown as
      // "redis://***@host"), nor one that starts with "*@": not tested.
      fc.string({ unit: "grapheme-ascii", minLength: 8, maxLength: 300 })
        .filter((password) => new Set(password).size >= 5 && !/^\**@/.test(password)),
      (variable, shape, password) => {
        const value = shape.replace("PW", password);
        let message: string;
        try {
          parseConfig({ [variable]: value });
          return; // a value that happens to be valid is not shown at all
        } catch (error) {
          assert.ok(error instanceof ConfigError);
          message = error.message;
        }
        for (const form of [password, JSON.stringify(password).slice(1, -1)]) {
          assert.ok(!message.includes(form), `${JSON.stringify(password)} leaked: ${message}`);
        }
      },
    ),
    { numRuns: 2_000 },
  );
});

Deno.test("parseConfig() refuses a Redis URL node-redis cannot use", async (t) => {
  for (
    const value of [
      "redis://redis.internal:6379/cache",
      "redis://:p%zz@redis.internal:6379",
      "redis://",
      "redis://:pw@",
    ]
  ) {
    await t.step(value, () => {
      assert.match(
        problemFor(configErrorOf({ CHOREOAI_REDIS_URL: value }), "CHOREOAI_REDIS_URL"),
        /redis:\/\//,
      );
    });
  }
  for (const value of ["redis://redis.internal", "rediss://u:p%40ss@[::1]:6380/15", "redis://h/"]) {
    await t.step(`${value} is accepted`, () => {
      assert.equal(parseConfig({ CHOREOAI_REDIS_URL: value }).redisUrl, value);
    });
  }
});

Deno.test("isLoopbackHost() tells loopback listen addresses apart", async (t) => {
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.5.5.5", true],
    ["::1", true],
    ["[::1]", true],
    ["localhost", true],
    ["::ffff:127.0.0.1", true],
    ["0.0.0.0", false],
    ["::", false],
    ["[::]", false],
    ["192.168.1.1", false],
    ["10.0.0.1", false],
    ["example.com", false],
    ["localhost.example.com", false],
  ];
  for (const [host, expected] of cases) {
    await t.step(`${host} → ${expected}`, () => {
      assert.equal(isLoopbackHost(host), expected);
    });
  }
});
