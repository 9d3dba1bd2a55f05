/**
 * Tool input schemas given as zod schemas. zod is not a dependency of Troupe: a zod schema is recognised by its shape,
 * and zod itself (version 4, for z.toJSONSchema) is loaded from the application's node_modules when a tool is
 * defined with one. The model is sent the JSON Schema zod makes of it; the model's input is checked with the schema's
 * own safeParse (refinements included) and goes to the tool as the model sent it.
 */
import { createRequire } from 'node:module';
import type { ValidateFunction } from 'ajv';
import { InvalidToolSchemaError } from './errors.ts';

/** What Troupe needs of a zod schema (zod 4 marks its schemas with `_zod`, zod 3 with `_def`). */
export interface ZodLikeSchema {
  safeParse(input: unknown): { success: boolean; error?: { issues: Array<{ path: PropertyKey[]; message: string }> } };
}

export function isZodSchema(s: unknown): s is ZodLikeSchema {
  return typeof s === 'object' && s !== null && typeof (s as ZodLikeSchema).safeParse === 'function' && ('_zod' in s || '_def' in s);
}

type Zod = { toJSONSchema?: (schema: unknown, options?: unknown) => Record<string, unknown> };
let zod: Zod | null | undefined;

function loadZod(): Zod | null {
  if (zod === undefined) {
    try {
      zod = createRequire(import.meta.url)('zod') as Zod;
    } catch {
      zod = null;
    }
  }
  return zod;
}

/** The JSON Schema the API is sent, and a validator with ajv's shape (`errors` after a failed call). */
export function compileZodSchema(where: string, schema: ZodLikeSchema): { jsonSchema: Record<string, unknown>; validate: ValidateFunction } {
  const toJSONSchema = loadZod()?.toJSONSchema;
  if (typeof toJSONSchema !== 'function') throw new InvalidToolSchemaError(`${where}: input_schema is a zod schema, which needs zod 4 installed (z.toJSONSchema)`);
  let jsonSchema: Record<string, unknown>;
  try {
    jsonSchema = { ...toJSONSchema(schema, { io: 'input' }) };
  } catch (err) {
    throw new InvalidToolSchemaError(`${where}: the zod input_schema has no JSON Schema: ${(err as Error).message}`, { cause: err });
  }
  delete jsonSchema.$schema;
  if (jsonSchema.type !== 'object') throw new InvalidToolSchemaError(`${where}: a zod input_schema must be an object schema (z.object)`);
  const validate = ((input: unknown) => {
    const r = schema.safeParse(input);
    validate.errors = r.success ? null : (r.error?.issues ?? []).map((i) => ({ instancePath: i.path.length ? `/${i.path.map(String).join('/')}` : '', message: i.message })) as never;
    return r.success;
  }) as ValidateFunction;
  return { jsonSchema, validate };
}
