/**
 * JSON Schema fragments for route `schema` blocks (documentation for OpenAPI). Query strings are declared as
 * strings and judged by zod in the handler (so a 400 names the field); replies keep extra properties so the
 * serializer never drops a figure a schema forgot.
 */
/** An object that may be null (a figure that cannot be computed is null, never an empty object). */
export const obj = (properties: Record<string, unknown>, description?: string) => ({
  type: ['object', 'null'],
  additionalProperties: true,
  properties,
  ...(description ? { description } : {}),
});
export const num = (description: string) => ({ type: ['number', 'null'], description });
export const int = (description: string) => ({ type: ['integer', 'null'], description });
export const str = (description: string) => ({ type: ['string', 'null'], description });
export const bool = (description: string) => ({ type: 'boolean', description });
/** A query parameter, documented only: no type, so a repeated key reaches zod and gets a 400 naming it. */
export const queryString = (description: string) => ({ description });

export const errorReply = obj(
  {
    error: obj({
      code: { type: 'string', description: 'RT_ERR_… code' },
      message: { type: 'string' },
      field: { type: 'string', description: 'The query parameter at fault, when there is one.' },
    }),
  },
  'Error: { error: { code, message, field? } }',
);
