// A TypeScript client of the Supervisor API that keeps 64-bit ids exact, compiled with
// `tsc --strict` and run against a loopback server by bigint_roundtrip.mjs (the `typescript`
// gate of `cargo xtask lint`). Its types come from openapi_typescript_bigint.mjs (int64 is
// `bigint`); answers are parsed with lossless-json, which keeps every number's digits, and each
// number then becomes a `bigint` where the schema says int64 and a `number` elsewhere.
import { LosslessNumber, parse, stringify } from "lossless-json";
import type { components, paths } from "./laserdata-supervisor.bigint";

interface Schema {
  $ref?: string;
  format?: string;
  properties?: Record<string, Schema>;
  items?: Schema;
  allOf?: Schema[];
  anyOf?: Schema[];
  oneOf?: Schema[];
}

export interface Document {
  components: { schemas: Record<string, Schema> };
}

type ActivityPage = paths["/deployments/{deployment_id}/activities"]["get"]["responses"][200]["content"]["application/json"];
type CreateActivity = components["schemas"]["CreateActivity"];

/// The schema and every schema it is made of ($ref, allOf, anyOf, oneOf), flattened.
function parts(schema: Schema | undefined, doc: Document): Schema[] {
  if (schema === undefined) return [];
  if (schema.$ref !== undefined) {
    return parts(doc.components.schemas[schema.$ref.replace("#/components/schemas/", "")], doc);
  }
  const members = [...(schema.allOf ?? []), ...(schema.anyOf ?? []), ...(schema.oneOf ?? [])];
  return [schema, ...members.flatMap((member) => parts(member, doc))];
}

/// What lossless-json parsed, with its numbers typed by `schema`.
export function decode(value: unknown, schema: Schema | undefined, doc: Document): unknown {
  const found = parts(schema, doc);
  if (value instanceof LosslessNumber) {
    return found.some((part) => part.format === "int64") ? BigInt(value.value) : Number(value.value);
  }
  if (Array.isArray(value)) {
    const items = found.find((part) => part.items !== undefined)?.items;
    return value.map((item) => decode(item, items, doc));
  }
  if (value !== null && typeof value === "object") {
    return Object.fromEntries(
      Object.entries(value).map(([key, item]) => {
        const property = found.find((part) => part.properties?.[key] !== undefined)?.properties?.[key];
        return [key, decode(item, property, doc)];
      }),
    );
  }
  return value;
}

/// Reads a deployment's activity log and restarts the nodes it names: ids go out exactly as
/// they came in.
export async function restartLoggedNodes(
  baseUrl: string,
  doc: Document,
  deployment: bigint,
): Promise<{ page: ActivityPage; sent: string }> {
  const headers = { "ld-api-key": "ldsk_test", "content-type": "application/json" };
  const answer = await fetch(`${baseUrl}/deployments/${deployment}/activities`, { headers });
  const schema = { $ref: "#/components/schemas/Paged_ActivityInfo" };
  const page = decode(parse(await answer.text()), schema, doc) as ActivityPage;
  const body: CreateActivity = { nodes: page.items.flatMap((activity) => (activity.node_id === undefined ? [] : [activity.node_id])) };
  const sent = stringify(body) ?? "";
  const accepted = await fetch(`${baseUrl}/deployments/${deployment}/activities/iggy/restart`, { method: "POST", headers, body: sent });
  if (accepted.status !== 202) throw new Error(`create_activity answered ${accepted.status}`);
  return { page, sent };
}
