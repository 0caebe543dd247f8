import assert from "node:assert/strict";
import { errorResponse, GatewayError } from "../../../src/errors.ts";
import { fromAzureError } from "../../../src/providers/azure/error.ts";
import { azure, createAzureAdapter } from "../../../src/providers/azure/mod.ts";

const ACCESS_DENIED = {
  error: {
    code: "401",
    message: "Access denied due to invalid subscription key or wrong API endpoint. Make sure to " +
      "provide a valid key for an active subscription and use a correct regional API endpoint " +
      "for your resource.",
  },
};

const DEPLOYMENT_NOT_FOUND = {
  error: {
    code: "DeploymentNotFound",
    message: "The API deployment for this resource does not exist. If you created the deployment " +
      "within the last 5 minutes, please wait a moment and try again.",
  },
};

const CONTENT_FILTER = {
  error: {
    message: "The response was filtered due to the prompt triggering Azure OpenAI's content " +
      "management policy. Please modify your prompt and retry. To learn more about our content " +
      "filtering policies please read our documentation: https://go.microsoft.com/fwlink/?linkid=2198766",
    type: null,
    param: "prompt",
    code: "content_filter",
    status: 400,
    innererror: {
      code: "ResponsibleAIPolicyViolation",
      content_filter_result: {
        hate: { filtered: false, severity: "safe" },
        jailbreak: { filtered: false, detected: false },
        self_harm: { filtered: false, severity: "safe" },
        sexual: { filtered: false, severity: "safe" },
        violence: { filtered: true, severity: "medium" },
      },
    },
  },
};

function rateLimit(seconds: number) {
  return {
    error: {
      code: "429",
      message: "Requests to the ChatCompletions_Create Operation under Azure OpenAI API version " +
        "2024-10-21 have exceeded token rate limit of your current OpenAI S0 pricing tier. " +
        `Please retry after ${seconds} seconds. Please go here: https://aka.ms/oai/quotaincrease ` +
        "if you would like to further increase the default rate limit.",
    },
  };
}

interface Expected {
  status: number;
  type: string;
  code: string | null;
  param?: string | null;
  message?: RegExp;
  retryAfter?: string | undefined;
}

function check(error: GatewayError, expected: Expected): void {
  assert.ok(error instanceof GatewayError);
  assert.equal(error.status, expected.status);
  assert.equal(error.type, expected.type);
  assert.equal(error.code, expected.code);
  if (expected.param !== undefined) assert.equal(error.param, expected.param);
  if (expected.message !== undefined) assert.match(error.message, expected.message);
  assert.equal(error.headers["retry-after"], expected.retryAfter);
}

Deno.test("fromAzureError() hides Azure's text when it rejects the gateway's key", async (t) => {
  for (const status of [401, 403]) {
    await t.step(`HTTP ${status}`, async () => {
      const error = fromAzureError(status, ACCESS_DENIED, new Headers(), { provider: "azure-eu" });
      check(error, { status: 502, type: "api_error", code: "upstream_error", message: /azure-eu/ });
      const text = await errorResponse(error).text();
      assert.ok(!text.includes("Access denied"), text);
      assert.ok(!text.includes("subscription key"), text);
    });
  }
});

Deno.test("fromAzureError() maps Azure's errors to the gateway's", async (t) => {
  const cases: [string, number, unknown, Headers, Expected][] = [
    [
      "404 DeploymentNotFound → 404 model_not_found",
      404,
      DEPLOYMENT_NOT_FOUND,
      new Headers(),
      {
        status: 404,
        type: "invalid_request_error",
        code: "model_not_found",
        param: "model",
        message: /^The Azure deployment does not exist: The API deployment for this resource/,
      },
    ],
    [
      "404 Resource not found (missing api-version) → 502",
      404,
      { error: { code: "404", message: "Resource not found" } },
      new Headers(),
      {
        status: 502,
        type: "api_error",
        code: "upstream_error",
        message: /Resource not found.*endpoint or api-version/,
      },
    ],
    [
      "404 without a JSON body → 502",
      404,
      undefined,
      new Headers(),
      {
        status: 502,
        type: "api_error",
        code: "upstream_error",
        message: /^azure answered 404: Resource not found; the Azure endpoint or api-version/,
      },
    ],
    [
      "404 with another Azure code is passed on",
      404,
      { error: { code: "OperationNotFound", message: "no such operation" } },
      new Headers(),
      { status: 404, type: "invalid_request_error", code: "OperationNotFound" },
    ],
    [
      "400 API version not supported → 502",
      400,
      { error: { code: "BadRequest", message: "API version not supported" } },
      new Headers(),
      { status: 502, type: "api_error", code: "upstream_error", message: /api-version/ },
    ],
    [
      "400 content_filter with innererror → 400 content_filter",
      400,
      CONTENT_FILTER,
      new Headers(),
      {
        status: 400,
        type: "invalid_request_error",
        code: "content_filter",
        param: "prompt",
        message: /^The response was filtered due to the prompt triggering Azure OpenAI's content/,
      },
    ],
    [
      "400 other errors keep Azure's fields",
      400,
      {
        error: {
          message: "Unrecognized request argument supplied: functionz",
          type: "invalid_request_error",
          param: null,
          code: null,
        },
      },
      new Headers(),
      {
        status: 400,
        type: "invalid_request_error",
        code: null,
        message: /^Unrecognized request argument/,
      },
    ],
    [
      "429 with a retry-after header",
      429,
      rateLimit(12),
      new Headers({ "retry-after": "7" }),
      {
        status: 429,
        type: "rate_limit_error",
        code: "rate_limit_exceeded",
        message: /exceeded token rate limit/,
        retryAfter: "7",
      },
    ],
    [
      "429 without the header: the wait is read from the message",
      429,
      rateLimit(12),
      new Headers(),
      { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: "12" },
    ],
    [
      "429 with only retry-after-ms",
      429,
      rateLimit(12),
      new Headers({ "retry-after-ms": "1500" }),
      { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: "2" },
    ],
    [
      "429 without a wait anywhere",
      429,
      { error: { code: "429", message: "Too many requests" } },
      new Headers(),
      { status: 429, type: "rate_limit_error", code: "rate_limit_exceeded", retryAfter: undefined },
    ],
    [
      "429 with another code keeps it",
      429,
      { error: { code: "insufficient_quota", message: "quota" } },
      new Headers(),
      { status: 429, type: "rate_limit_error", code: "insufficient_quota" },
    ],
    [
      "500 → 502 with Azure's message",
      500,
      { error: { code: "InternalServerError", message: "The service is temporarily unavailable" } },
      new Headers(),
      {
        status: 502,
        type: "api_error",
        code: "upstream_error",
        message: /^azure: The service is temporarily unavailable$/,
      },
    ],
    [
      "503 → 503 upstream_overloaded",
      503,
      { error: { code: "ServiceUnavailable", message: "The server is busy" } },
      new Headers(),
      {
        status: 503,
        type: "api_error",
        code: "upstream_overloaded",
        message: /^azure: The server is busy$/,
      },
    ],
    [
      "504 → 504 upstream_timeout",
      504,
      undefined,
      new Headers(),
      { status: 504, type: "api_error", code: "upstream_timeout" },
    ],
  ];
  for (const [name, status, body, headers, expected] of cases) {
    await t.step(name, () => check(fromAzureError(status, body, headers), expected));
  }
});

Deno.test("fromAzureError() names the deployment and the provider when it knows them", async (t) => {
  await t.step("DeploymentNotFound names the deployment", () => {
    const error = fromAzureError(404, DEPLOYMENT_NOT_FOUND, new Headers(), {
      deployment: "gpt4o-prod",
    });
    assert.match(error.message, /^The Azure deployment "gpt4o-prod" does not exist: /);
  });
  await t.step("the adapter passes its name and the target's deployment", () => {
    const error = createAzureAdapter("azure-eu").fromError(
      404,
      {
        error: { code: "404", message: "Resource not found" },
      },
      new Headers(),
      { model: "gpt4o-prod" },
    );
    assert.match(error.message, /^azure-eu answered 404/);
    const notFound = azure.fromError(404, DEPLOYMENT_NOT_FOUND, new Headers(), {
      model: "gpt4o-prod",
    });
    assert.match(notFound.message, /"gpt4o-prod"/);
  });
  await t.step("the adapter works without a target", () => {
    const error = azure.fromError(404, DEPLOYMENT_NOT_FOUND, new Headers());
    assert.equal(error.code, "model_not_found");
  });
});
