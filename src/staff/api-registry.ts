import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import { AppError } from '../platform/app-error';
import { allow, requireCsrf, staffOf, type Access, type StaffContext } from './access';

export interface ApiOperation<B extends z.ZodType, Q extends z.ZodType> {
  readonly method: 'get' | 'post';
  readonly path: string;
  readonly summary: string;
  readonly access: Access;
  readonly body?: B;
  readonly query?: Q;
  /** The shape of a 2xx answer, for the document only. */
  readonly response?: z.ZodType;
}

type Handler<B extends z.ZodType, Q extends z.ZodType> = (input: {
  body: z.infer<B>;
  query: z.infer<Q>;
  staff: StaffContext | undefined;
  req: Request;
  res: Response;
}) => Promise<unknown>;

const issuesOf = (error: z.ZodError): string =>
  error.issues.map((issue) => `${issue.path.join('.') || 'body'}: ${issue.message}`).join('; ');

/**
 * /api/v1: every operation is declared once, with the zod schemas that validate its input; the
 * same declarations make the OpenAPI document at /api/docs.
 */
export function createApiRegistry(basePath = '/api/v1') {
  const router = Router();
  router.use(basePath, express.json({ limit: '100kb', strict: true }), requireCsrf());
  const operations: Array<ApiOperation<z.ZodType, z.ZodType>> = [];

  return {
    router,
    add<B extends z.ZodType = z.ZodUndefined, Q extends z.ZodType = z.ZodUndefined>(
      operation: ApiOperation<B, Q>,
      handler: Handler<B, Q>,
    ): void {
      operations.push(operation);
      router[operation.method](`${basePath}${operation.path}`, allow(operation.access), async (req, res) => {
        const body = operation.body ? operation.body.safeParse(req.body) : { success: true as const, data: undefined };
        if (!body.success) throw AppError.badRequest(issuesOf(body.error));
        const query = operation.query ? operation.query.safeParse(req.query) : { success: true as const, data: undefined };
        if (!query.success) throw AppError.badRequest(issuesOf(query.error));
        const result = await handler({ body: body.data as z.infer<B>, query: query.data as z.infer<Q>, staff: staffOf(res), req, res });
        if (!res.headersSent) res.json(result ?? { ok: true });
      });
    },
    openapi(): Record<string, unknown> {
      const paths: Record<string, Record<string, unknown>> = {};
      for (const op of operations) {
        const path = `${basePath}${op.path}`.replace(/:(\w+)/g, '{$1}');
        paths[path] ??= {};
        paths[path][op.method] = {
          summary: op.summary,
          'x-roles': 'public' in op.access ? 'public' : op.access.roles,
          ...(op.query ? { parameters: queryParameters(op.query) } : {}),
          ...(op.body
            ? {
                requestBody: {
                  required: true,
                  content: { 'application/json': { schema: z.toJSONSchema(op.body, { io: 'input', unrepresentable: 'any' }) } },
                },
              }
            : {}),
          responses: {
            200: {
              description: 'OK',
              ...(op.response
                ? { content: { 'application/json': { schema: z.toJSONSchema(op.response, { unrepresentable: 'any' }) } } }
                : {}),
            },
            400: { $ref: '#/components/responses/Error' },
            ...('public' in op.access
              ? {}
              : { 401: { $ref: '#/components/responses/Error' }, 403: { $ref: '#/components/responses/Error' } }),
          },
        };
      }
      return {
        openapi: '3.1.0',
        info: { title: 'safeline API', version: '1' },
        paths,
        components: {
          securitySchemes: {
            session: { type: 'apiKey', in: 'cookie', name: 'sl_sid' },
            csrf: { type: 'apiKey', in: 'header', name: 'x-csrf-token' },
          },
          responses: {
            Error: {
              description: 'An error',
              content: {
                'application/json': {
                  schema: {
                    type: 'object',
                    properties: {
                      error: {
                        type: 'object',
                        properties: { code: { type: 'string' }, message: { type: 'string' } },
                        required: ['code', 'message'],
                      },
                    },
                  },
                },
              },
            },
          },
        },
      };
    },
  };
}

function queryParameters(schema: z.ZodType): unknown[] {
  const json = z.toJSONSchema(schema, { io: 'input', unrepresentable: 'any' }) as {
    properties?: Record<string, unknown>;
    required?: string[];
  };
  return Object.entries(json.properties ?? {}).map(([name, property]) => ({
    name,
    in: 'query',
    required: json.required?.includes(name) ?? false,
    schema: property,
  }));
}

export type ApiRegistry = ReturnType<typeof createApiRegistry>;
