/** `GET /v1/models` and `GET /v1/models/{id}`: what this key may use, in OpenAI's list shape. */
import { errors, GatewayError } from "../errors.ts";
import { planRoute } from "../routing/route.ts";
import type { RequestContext, RouteDeps } from "./context.ts";

/** Lists the routable models the key may use. */
export async function handleListModels(ctx: RequestContext, deps: RouteDeps): Promise<Response> {
  const models = await deps.catalog.list(deps.routing());
  const data = models.filter((model) => ctx.principal.mayUseModel(model.id));
  return Response.json({ object: "list", data });
}

/**
 * One model, by the id as listed (`/` may be sent as `%2F`) or by a bare name that routes to a
 * listed model (`gpt-4o` for `openai/gpt-4o`).
 */
export async function handleGetModel(
  id: string,
  ctx: RequestContext,
  deps: RouteDeps,
): Promise<Response> {
  ctx.fields.model = id;
  const notFound = errors.modelNotFound(`The model "${id}" does not exist or is not routable`);
  if (!ctx.principal.mayUseModel(id)) throw notFound;
  const routing = deps.routing();
  const models = await deps.catalog.list(routing);
  const exact = models.find((model) => model.id === id);
  if (exact !== undefined) return Response.json(exact);
  const plan = planRoute(id, routing);
  if (plan instanceof GatewayError) throw plan;
  const target = plan.kind === "upstream" ? plan.chain[0]?.targets[0] : undefined;
  if (target === undefined) throw notFound;
  const listed = models.find((model) => model.id === `${target.provider.name}/${target.model}`);
  if (listed === undefined) throw notFound;
  return Response.json({ ...listed, id });
}
