// openapi-typescript with every int64 typed as `bigint` instead of `number` (the `typescript`
// gate of `cargo xtask lint`): node openapi_typescript_bigint.mjs DOCUMENT OUTPUT.ts
//
// A JavaScript number holds integers exactly only up to 2^53, and LaserData's ids go beyond.
// This is openapi-typescript's documented `transform` hook; the README shows the same for users.
import fs from "node:fs";
import path from "node:path";
import { pathToFileURL } from "node:url";
import openapiTS, { astToString } from "openapi-typescript";
import ts from "typescript";

const BIGINT = ts.factory.createKeywordTypeNode(ts.SyntaxKind.BigIntKeyword);
const NULL = ts.factory.createLiteralTypeNode(ts.factory.createNull());

const [input, output] = process.argv.slice(2);
const ast = await openapiTS(pathToFileURL(path.resolve(input)), {
  transform(schema) {
    if (schema.format !== "int64") return undefined;
    const nullable = schema.nullable === true || (Array.isArray(schema.type) && schema.type.includes("null"));
    return nullable ? ts.factory.createUnionTypeNode([BIGINT, NULL]) : BIGINT;
  },
});
fs.writeFileSync(output, astToString(ast));
