// The protobuf form of /openapi/v2 (gnostic's openapi.v2.Document), which kubectl
// asks for with "Accept: application/com.github.proto-openapi.spec.v2@v1.0+protobuf".
// Like gnostic, free-form values (vendor extensions, default, example, enum)
// travel as YAML text in Any.yaml.
import protobuf from 'protobufjs';
import { parse as parseYaml, stringify as stringifyYaml } from 'yaml';
import { OPENAPI_V2_PROTO } from './gnostic-openapi-v2-proto.js';

/** What kubectl puts in Accept to ask for the protobuf form. */
export const OPENAPI_V2_PROTOBUF_CONTENT_TYPE = 'application/com.github.proto-openapi.spec.v2@v1.0+protobuf';
/**
 * The Content-Type to answer with: kube-apiserver says application/octet-stream,
 * and kubectl before 1.33 fails to parse the "@" of the requested type.
 */
export const OPENAPI_V2_PROTOBUF_RESPONSE_CONTENT_TYPE = 'application/octet-stream';

type Json = Record<string, unknown>;
type Message = Record<string, unknown>;

let documentType: protobuf.Type | undefined;

function documentMessage(): protobuf.Type {
  if (!documentType) {
    const { root } = protobuf.parse(OPENAPI_V2_PROTO, { keepCase: true });
    documentType = root.lookupType('openapi.v2.Document');
  }
  return documentType;
}

function isObject(v: unknown): v is Json {
  return typeof v === 'object' && v !== null && !Array.isArray(v);
}

function anyOf(value: unknown): Message {
  return { yaml: stringifyYaml(value) };
}

function vendorExtensions(o: Json): Message[] {
  return Object.entries(o)
    .filter(([k]) => k.startsWith('x-'))
    .map(([name, value]) => ({ name, value: anyOf(value) }));
}

function copyScalars(from: Json, to: Message, names: Record<string, string>): void {
  for (const [json, proto] of Object.entries(names)) {
    const v = from[json];
    if (v !== undefined && v !== null) to[proto] = v;
  }
}

const SCHEMA_SCALARS: Record<string, string> = {
  $ref: '_ref', format: 'format', title: 'title', description: 'description', multipleOf: 'multiple_of', maximum: 'maximum',
  exclusiveMaximum: 'exclusive_maximum', minimum: 'minimum', exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length',
  minLength: 'min_length', pattern: 'pattern', maxItems: 'max_items', minItems: 'min_items', uniqueItems: 'unique_items',
  maxProperties: 'max_properties', minProperties: 'min_properties', required: 'required', discriminator: 'discriminator', readOnly: 'read_only',
};

function schemaToProto(s: Json): Message {
  const out: Message = {};
  copyScalars(s, out, SCHEMA_SCALARS);
  if (s.default !== undefined) out.default = anyOf(s.default);
  if (Array.isArray(s.enum)) out.enum = s.enum.map(anyOf);
  if (typeof s.additionalProperties === 'boolean') out.additional_properties = { boolean: s.additionalProperties };
  else if (isObject(s.additionalProperties)) out.additional_properties = { schema: schemaToProto(s.additionalProperties) };
  if (typeof s.type === 'string') out.type = { value: [s.type] };
  else if (Array.isArray(s.type)) out.type = { value: s.type };
  if (isObject(s.items)) out.items = { schema: [schemaToProto(s.items)] };
  else if (Array.isArray(s.items)) out.items = { schema: s.items.filter(isObject).map(schemaToProto) };
  if (Array.isArray(s.allOf)) out.all_of = s.allOf.filter(isObject).map(schemaToProto);
  if (isObject(s.properties)) {
    out.properties = {
      additional_properties: Object.entries(s.properties).filter(([, v]) => isObject(v)).map(([name, v]) => ({ name, value: schemaToProto(v as Json) })),
    };
  }
  if (isObject(s.externalDocs)) out.external_docs = externalDocsToProto(s.externalDocs);
  if (s.example !== undefined) out.example = anyOf(s.example);
  const ext = vendorExtensions(s);
  if (ext.length > 0) out.vendor_extension = ext;
  return out;
}

function externalDocsToProto(d: Json): Message {
  const out: Message = {};
  copyScalars(d, out, { description: 'description', url: 'url' });
  const ext = vendorExtensions(d);
  if (ext.length > 0) out.vendor_extension = ext;
  return out;
}

const NON_BODY_SCALARS: Record<string, string> = {
  required: 'required', in: 'in', description: 'description', name: 'name', allowEmptyValue: 'allow_empty_value', type: 'type',
  format: 'format', collectionFormat: 'collection_format', maximum: 'maximum', exclusiveMaximum: 'exclusive_maximum', minimum: 'minimum',
  exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length', minLength: 'min_length', pattern: 'pattern', maxItems: 'max_items',
  minItems: 'min_items', uniqueItems: 'unique_items', multipleOf: 'multiple_of',
};
const NON_BODY_FIELD: Record<string, string> = {
  header: 'header_parameter_sub_schema',
  formData: 'form_data_parameter_sub_schema',
  query: 'query_parameter_sub_schema',
  path: 'path_parameter_sub_schema',
};

function parameterToProto(p: Json): Message {
  if (typeof p.$ref === 'string') return { json_reference: { _ref: p.$ref } };
  if (p.in === 'body') {
    const body: Message = {};
    copyScalars(p, body, { description: 'description', name: 'name', in: 'in', required: 'required' });
    if (isObject(p.schema)) body.schema = schemaToProto(p.schema);
    const ext = vendorExtensions(p);
    if (ext.length > 0) body.vendor_extension = ext;
    return { parameter: { body_parameter: body } };
  }
  const sub: Message = {};
  copyScalars(p, sub, NON_BODY_SCALARS);
  // Header parameters have no allowEmptyValue in the proto.
  if (p.in === 'header' || p.in === 'path') delete sub.allow_empty_value;
  if (p.default !== undefined) sub.default = anyOf(p.default);
  if (Array.isArray(p.enum)) sub.enum = p.enum.map(anyOf);
  if (isObject(p.items)) sub.items = primitivesItemsToProto(p.items);
  const ext = vendorExtensions(p);
  if (ext.length > 0) sub.vendor_extension = ext;
  const field = NON_BODY_FIELD[String(p.in)] ?? 'query_parameter_sub_schema';
  return { parameter: { non_body_parameter: { [field]: sub } } };
}

function primitivesItemsToProto(i: Json): Message {
  const out: Message = {};
  copyScalars(i, out, {
    type: 'type', format: 'format', collectionFormat: 'collection_format', maximum: 'maximum', exclusiveMaximum: 'exclusive_maximum',
    minimum: 'minimum', exclusiveMinimum: 'exclusive_minimum', maxLength: 'max_length', minLength: 'min_length', pattern: 'pattern',
    maxItems: 'max_items', minItems: 'min_items', uniqueItems: 'unique_items', multipleOf: 'multiple_of',
  });
  if (isObject(i.items)) out.items = primitivesItemsToProto(i.items);
  if (i.default !== undefined) out.default = anyOf(i.default);
  if (Array.isArray(i.enum)) out.enum = i.enum.map(anyOf);
  return out;
}

function responsesToProto(r: Json): Message {
  const codes: Message[] = [];
  for (const [name, value] of Object.entries(r)) {
    if (name.startsWith('x-') || !isObject(value)) continue;
    if (typeof value.$ref === 'string') {
      codes.push({ name, value: { json_reference: { _ref: value.$ref } } });
      continue;
    }
    const response: Message = {};
    if (typeof value.description === 'string') response.description = value.description;
    if (isObject(value.schema)) {
      response.schema = value.schema.type === 'file' ? { file_schema: { type: 'file', description: value.schema.description } } : { schema: schemaToProto(value.schema) };
    }
    const ext = vendorExtensions(value);
    if (ext.length > 0) response.vendor_extension = ext;
    codes.push({ name, value: { response } });
  }
  const out: Message = { response_code: codes };
  const ext = vendorExtensions(r);
  if (ext.length > 0) out.vendor_extension = ext;
  return out;
}

function operationToProto(o: Json): Message {
  const out: Message = {};
  copyScalars(o, out, {
    tags: 'tags', summary: 'summary', description: 'description', operationId: 'operation_id', produces: 'produces',
    consumes: 'consumes', schemes: 'schemes', deprecated: 'deprecated',
  });
  if (isObject(o.externalDocs)) out.external_docs = externalDocsToProto(o.externalDocs);
  if (Array.isArray(o.parameters)) out.parameters = o.parameters.filter(isObject).map(parameterToProto);
  if (isObject(o.responses)) out.responses = responsesToProto(o.responses);
  if (Array.isArray(o.security)) out.security = o.security.filter(isObject).map(securityRequirementToProto);
  const ext = vendorExtensions(o);
  if (ext.length > 0) out.vendor_extension = ext;
  return out;
}

const METHODS = ['get', 'put', 'post', 'delete', 'options', 'head', 'patch'] as const;

function pathItemToProto(p: Json): Message {
  const out: Message = {};
  if (typeof p.$ref === 'string') out._ref = p.$ref;
  for (const m of METHODS) if (isObject(p[m])) out[m] = operationToProto(p[m] as Json);
  if (Array.isArray(p.parameters)) out.parameters = p.parameters.filter(isObject).map(parameterToProto);
  const ext = vendorExtensions(p);
  if (ext.length > 0) out.vendor_extension = ext;
  return out;
}

function securityRequirementToProto(s: Json): Message {
  return {
    additional_properties: Object.entries(s).map(([name, scopes]) => ({ name, value: { value: Array.isArray(scopes) ? scopes : [] } })),
  };
}

const SECURITY_FIELD: Record<string, string> = {
  basic: 'basic_authentication_security',
  apiKey: 'api_key_security',
};

function securityDefinitionsToProto(d: Json): Message {
  const items: Message[] = [];
  for (const [name, def] of Object.entries(d)) {
    if (!isObject(def)) continue;
    const body: Message = {};
    copyScalars(def, body, { type: 'type', name: 'name', in: 'in', description: 'description', flow: 'flow', authorizationUrl: 'authorization_url', tokenUrl: 'token_url' });
    let field = SECURITY_FIELD[String(def.type)];
    if (def.type === 'oauth2') {
      field = { implicit: 'oauth2_implicit_security', password: 'oauth2_password_security', application: 'oauth2_application_security', accessCode: 'oauth2_access_code_security' }[String(def.flow)];
      if (isObject(def.scopes)) body.scopes = { additional_properties: Object.entries(def.scopes).map(([n, v]) => ({ name: n, value: String(v) })) };
    }
    if (!field) continue;
    items.push({ name, value: { [field]: body } });
  }
  return { additional_properties: items };
}

function documentToProto(doc: Json): Message {
  const out: Message = {};
  copyScalars(doc, out, { swagger: 'swagger', host: 'host', basePath: 'base_path', schemes: 'schemes', consumes: 'consumes', produces: 'produces' });
  if (isObject(doc.info)) {
    const info: Message = {};
    copyScalars(doc.info, info, { title: 'title', version: 'version', description: 'description', termsOfService: 'terms_of_service' });
    const ext = vendorExtensions(doc.info);
    if (ext.length > 0) info.vendor_extension = ext;
    out.info = info;
  }
  if (isObject(doc.paths)) {
    out.paths = {
      path: Object.entries(doc.paths).filter(([k, v]) => !k.startsWith('x-') && isObject(v)).map(([name, v]) => ({ name, value: pathItemToProto(v as Json) })),
      vendor_extension: vendorExtensions(doc.paths),
    };
  }
  if (isObject(doc.definitions)) {
    out.definitions = {
      additional_properties: Object.entries(doc.definitions).filter(([, v]) => isObject(v)).map(([name, v]) => ({ name, value: schemaToProto(v as Json) })),
    };
  }
  if (isObject(doc.parameters)) {
    out.parameters = {
      additional_properties: Object.entries(doc.parameters).filter(([, v]) => isObject(v)).map(([name, v]) => ({ name, value: (parameterToProto(v as Json).parameter ?? {}) })),
    };
  }
  if (Array.isArray(doc.security)) out.security = doc.security.filter(isObject).map(securityRequirementToProto);
  if (isObject(doc.securityDefinitions)) out.security_definitions = securityDefinitionsToProto(doc.securityDefinitions);
  if (Array.isArray(doc.tags)) {
    out.tags = doc.tags.filter(isObject).map((t) => {
      const tag: Message = {};
      copyScalars(t, tag, { name: 'name', description: 'description' });
      return tag;
    });
  }
  if (isObject(doc.externalDocs)) out.external_docs = externalDocsToProto(doc.externalDocs);
  const ext = vendorExtensions(doc);
  if (ext.length > 0) out.vendor_extension = ext;
  return out;
}

/** The gnostic openapi.v2.Document encoding of a swagger 2.0 document. */
export function encodeOpenAPIv2Protobuf(doc: object): Uint8Array {
  const type = documentMessage();
  return type.encode(type.fromObject(documentToProto(doc as Json))).finish();
}

// Decoding turns the message back into swagger JSON, for tests and tools that
// inspect what kubectl receives.

function renameScalars(from: Message, to: Json, names: Record<string, string>): void {
  for (const [json, proto] of Object.entries(names)) {
    const v = from[proto];
    if (v !== undefined) to[json] = v;
  }
}

function yamlOf(any: unknown): unknown {
  return isObject(any) && typeof any.yaml === 'string' ? parseYaml(any.yaml) : undefined;
}

function addExtensions(from: Message, to: Json): void {
  if (!Array.isArray(from.vendor_extension)) return;
  for (const e of from.vendor_extension as Message[]) to[String(e.name)] = yamlOf(e.value);
}

function schemaFromProto(m: Message): Json {
  const out: Json = {};
  renameScalars(m, out, SCHEMA_SCALARS);
  if (m.default !== undefined) out.default = yamlOf(m.default);
  if (Array.isArray(m.enum)) out.enum = m.enum.map(yamlOf);
  const ap = m.additional_properties as Message | undefined;
  if (ap?.boolean !== undefined) out.additionalProperties = ap.boolean;
  else if (isObject(ap?.schema)) out.additionalProperties = schemaFromProto(ap.schema as Message);
  const type = (m.type as Message | undefined)?.value as string[] | undefined;
  if (type && type.length === 1) out.type = type[0];
  else if (type && type.length > 1) out.type = type;
  const items = (m.items as Message | undefined)?.schema as Message[] | undefined;
  if (items && items.length === 1) out.items = schemaFromProto(items[0]!);
  else if (items && items.length > 1) out.items = items.map(schemaFromProto);
  if (Array.isArray(m.all_of)) out.allOf = (m.all_of as Message[]).map(schemaFromProto);
  const props = (m.properties as Message | undefined)?.additional_properties as Message[] | undefined;
  if (props) out.properties = Object.fromEntries(props.map((p) => [String(p.name), schemaFromProto((p.value ?? {}) as Message)]));
  if (isObject(m.external_docs)) out.externalDocs = externalDocsFromProto(m.external_docs as Message);
  if (m.example !== undefined) out.example = yamlOf(m.example);
  addExtensions(m, out);
  return out;
}

function externalDocsFromProto(m: Message): Json {
  const out: Json = {};
  renameScalars(m, out, { description: 'description', url: 'url' });
  addExtensions(m, out);
  return out;
}

function parameterFromProto(m: Message): Json {
  if (isObject(m.json_reference)) return { $ref: (m.json_reference as Message)._ref };
  const p = (m.parameter ?? m) as Message;
  if (isObject(p.body_parameter)) {
    const b = p.body_parameter as Message;
    const out: Json = {};
    renameScalars(b, out, { description: 'description', name: 'name', in: 'in', required: 'required' });
    if (isObject(b.schema)) out.schema = schemaFromProto(b.schema as Message);
    addExtensions(b, out);
    return out;
  }
  const nb = (p.non_body_parameter ?? {}) as Message;
  const sub = (Object.values(nb)[0] ?? {}) as Message;
  const out: Json = {};
  renameScalars(sub, out, NON_BODY_SCALARS);
  if (sub.default !== undefined) out.default = yamlOf(sub.default);
  if (Array.isArray(sub.enum)) out.enum = sub.enum.map(yamlOf);
  addExtensions(sub, out);
  return out;
}

function operationFromProto(m: Message): Json {
  const out: Json = {};
  renameScalars(m, out, {
    tags: 'tags', summary: 'summary', description: 'description', operationId: 'operation_id', produces: 'produces',
    consumes: 'consumes', schemes: 'schemes', deprecated: 'deprecated',
  });
  if (Array.isArray(m.parameters)) out.parameters = (m.parameters as Message[]).map(parameterFromProto);
  if (isObject(m.responses)) {
    const responses: Json = {};
    for (const rc of ((m.responses as Message).response_code ?? []) as Message[]) {
      const value = (rc.value ?? {}) as Message;
      if (isObject(value.json_reference)) {
        responses[String(rc.name)] = { $ref: (value.json_reference as Message)._ref };
        continue;
      }
      const r = (value.response ?? {}) as Message;
      const response: Json = {};
      if (r.description !== undefined) response.description = r.description;
      const schema = (r.schema as Message | undefined)?.schema;
      if (isObject(schema)) response.schema = schemaFromProto(schema as Message);
      addExtensions(r, response);
      responses[String(rc.name)] = response;
    }
    out.responses = responses;
  }
  addExtensions(m, out);
  return out;
}

/** The swagger JSON a gnostic openapi.v2.Document encodes. */
export function decodeOpenAPIv2Protobuf(bytes: Uint8Array): Json {
  const type = documentMessage();
  const m = type.toObject(type.decode(bytes), { longs: Number, defaults: false }) as Message;
  const out: Json = {};
  renameScalars(m, out, { swagger: 'swagger', host: 'host', basePath: 'base_path', schemes: 'schemes', consumes: 'consumes', produces: 'produces' });
  if (isObject(m.info)) {
    const info: Json = {};
    renameScalars(m.info as Message, info, { title: 'title', version: 'version', description: 'description', termsOfService: 'terms_of_service' });
    addExtensions(m.info as Message, info);
    out.info = info;
  }
  if (isObject(m.paths)) {
    const paths: Json = {};
    for (const p of ((m.paths as Message).path ?? []) as Message[]) {
      const v = (p.value ?? {}) as Message;
      const item: Json = {};
      if (v._ref !== undefined) item.$ref = v._ref;
      for (const method of METHODS) if (isObject(v[method])) item[method] = operationFromProto(v[method] as Message);
      if (Array.isArray(v.parameters)) item.parameters = (v.parameters as Message[]).map(parameterFromProto);
      addExtensions(v, item);
      paths[String(p.name)] = item;
    }
    addExtensions(m.paths as Message, paths);
    out.paths = paths;
  }
  if (isObject(m.definitions)) {
    const defs = ((m.definitions as Message).additional_properties ?? []) as Message[];
    out.definitions = Object.fromEntries(defs.map((d) => [String(d.name), schemaFromProto((d.value ?? {}) as Message)]));
  }
  if (Array.isArray(m.security)) {
    out.security = (m.security as Message[]).map((s) =>
      Object.fromEntries(((s.additional_properties ?? []) as Message[]).map((e) => [String(e.name), ((e.value as Message | undefined)?.value ?? []) as unknown])),
    );
  }
  if (isObject(m.security_definitions)) {
    const items = ((m.security_definitions as Message).additional_properties ?? []) as Message[];
    out.securityDefinitions = Object.fromEntries(items.map((i) => {
      const body = (Object.values((i.value ?? {}) as Message)[0] ?? {}) as Message;
      const def: Json = {};
      renameScalars(body, def, { type: 'type', name: 'name', in: 'in', description: 'description', flow: 'flow', authorizationUrl: 'authorization_url', tokenUrl: 'token_url' });
      return [String(i.name), def];
    }));
  }
  addExtensions(m, out);
  return out;
}
