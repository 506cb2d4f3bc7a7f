import { dirname, join } from 'node:path';
import ts from 'typescript';
import type { JsonSchema } from './rule-schemas';

const ROOT = join(__dirname, '..', '..');

/** What one handler answers: the schema of its body, and the components that schema refers to. */
export interface HandlerAnswer {
  schema: JsonSchema;
  /** `text/plain` for a handler that answers a string (metrics), else JSON. */
  mediaType: string;
}

/**
 * The JSON Schemas of what the handlers return, read by the TypeScript compiler from their declared
 * return types (as Nest's swagger CLI plugin does, but for interfaces too): a document cannot
 * promise another shape than the code returns. Interfaces and named types become components;
 * property comments their descriptions; JSDoc tags add what a type cannot say: `@format uuid`,
 * `@integer`, `@example EUR`.
 */
export class ResponseSchemas {
  private readonly checker: ts.TypeChecker;
  private readonly handlers = new Map<string, ts.MethodDeclaration>();
  private readonly program: ts.Program;

  constructor(controllerFiles: string[]) {
    const configPath = join(ROOT, 'tsconfig.json');
    const { config } = ts.readConfigFile(configPath, (path) => ts.sys.readFile(path)) as {
      config: object;
    };
    const { options } = ts.parseJsonConfigFileContent(config, ts.sys, dirname(configPath));
    const program = ts.createProgram({ rootNames: controllerFiles, options });
    this.program = program;
    this.checker = program.getTypeChecker();
    for (const file of controllerFiles) {
      const source = program.getSourceFile(file);
      if (!source) throw new Error(`${file} is not in the program`);
      source.forEachChild((node) => {
        if (!ts.isClassDeclaration(node) || !node.name) return;
        for (const member of node.members) {
          if (ts.isMethodDeclaration(member) && ts.isIdentifier(member.name))
            this.handlers.set(`${node.name.text}_${member.name.text}`, member);
        }
      });
    }
  }

  /**
   * The `code` and `status` of every error class the controllers can reach, by class name, from
   * their declarations (`readonly code = 'ORDER.NOT_FOUND'`): an error need not be constructed.
   */
  errorCodes(): Map<string, { code: string; status: number }> {
    const found = new Map<string, { code: string; status: number }>();
    for (const source of this.program.getSourceFiles()) {
      if (source.isDeclarationFile || source.fileName.includes('node_modules')) continue;
      source.forEachChild((node) => {
        if (!ts.isClassDeclaration(node) || !node.name) return;
        const type = this.checker.getTypeAtLocation(node);
        const literal = (name: string) => {
          const property = type.getProperty(name);
          const value = property && this.checker.getTypeOfSymbolAtLocation(property, node);
          return value?.isLiteral() ? value.value : undefined;
        };
        const code = literal('code');
        const status = literal('status');
        if (typeof code === 'string' && typeof status === 'number')
          found.set(node.name.text, { code, status });
      });
    }
    return found;
  }

  /**
   * The descriptions and examples the comments of request classes give their properties (`@example
   * EUR`), by class and property: the rules themselves come from class-validator (rule-schemas.ts).
   */
  requestAnnotations(): Map<string, Record<string, JsonSchema>> {
    const found = new Map<string, Record<string, JsonSchema>>();
    const writer = new SchemaWriter(this.checker, {});
    const visit = (type: ts.Type): void => {
      const symbol = type.getSymbol();
      if (!symbol || !(symbol.flags & ts.SymbolFlags.Class) || found.has(symbol.name)) return;
      if (symbol.declarations?.[0]?.getSourceFile().fileName.includes('node_modules')) return;
      const properties: Record<string, JsonSchema> = {};
      found.set(symbol.name, properties);
      for (const property of this.checker.getPropertiesOfType(type)) {
        const declaration = property.valueDeclaration;
        if (!declaration) continue;
        const annotations = writer.annotationsOf(property);
        if (Object.keys(annotations).length > 0) properties[property.name] = annotations;
        const propertyType = this.checker.getNonNullableType(
          this.checker.getTypeOfSymbolAtLocation(property, declaration),
        );
        const [items] =
          propertyType.getSymbol()?.name === 'Array'
            ? this.checker.getTypeArguments(propertyType as ts.TypeReference)
            : [propertyType];
        if (items) visit(items);
      }
    };
    for (const handler of this.handlers.values())
      for (const parameter of handler.parameters) visit(this.checker.getTypeAtLocation(parameter));
    return found;
  }

  /**
   * The answer of the handler swagger names `operationId` (`<Controller>_<method>`); its named
   * types are added to `components`.
   */
  answerOf(operationId: string, components: Record<string, JsonSchema>): HandlerAnswer {
    const handler = this.handlers.get(operationId);
    if (!handler) throw new Error(`no handler ${operationId} in the controller files`);
    const signature = this.checker.getSignatureFromDeclaration(handler);
    if (!signature) throw new Error(`${operationId} has no signature`);
    const returned = this.checker.getReturnTypeOfSignature(signature);
    const type = this.checker.getAwaitedType(returned) ?? returned;
    const schema = new SchemaWriter(this.checker, components).schemaOf(type);
    return { schema, mediaType: schema.type === 'string' ? 'text/plain' : 'application/json' };
  }
}

/** Turns checker types into JSON Schema (the OpenAPI 3.0 dialect: `nullable`, `example`). */
class SchemaWriter {
  constructor(
    private readonly checker: ts.TypeChecker,
    private readonly components: Record<string, JsonSchema>,
  ) {}

  schemaOf(type: ts.Type): JsonSchema {
    if (type.flags & (ts.TypeFlags.Any | ts.TypeFlags.Unknown)) return {};
    if (type.flags & ts.TypeFlags.String) return { type: 'string' };
    if (type.flags & ts.TypeFlags.Number) return { type: 'number' };
    if (type.flags & ts.TypeFlags.Boolean) return { type: 'boolean' };
    if (type.isStringLiteral()) return { type: 'string', enum: [type.value] };
    if (type.isNumberLiteral()) return { type: 'number', enum: [type.value] };
    if (type.flags & ts.TypeFlags.BooleanLiteral)
      return { type: 'boolean', enum: [this.checker.typeToString(type) === 'true'] };
    if (type.flags & ts.TypeFlags.NonPrimitive) return { type: 'object' };
    if (type.isUnion()) return this.unionOf(type.types);
    const symbol = type.getSymbol();
    if (symbol?.name === 'Date') return { type: 'string', format: 'date-time' };
    if (symbol?.name === 'Array' || symbol?.name === 'ReadonlyArray') {
      const [items] = this.checker.getTypeArguments(type as ts.TypeReference);
      return { type: 'array', items: items ? this.schemaOf(items) : {} };
    }
    const name = this.componentName(type);
    if (!name) return this.objectOf(type);
    const ref = { $ref: `#/components/schemas/${name}` };
    if (!(name in this.components)) {
      // Placed first, so a type that refers to itself ends in a $ref instead of looping.
      this.components[name] = {};
      this.components[name] = this.objectOf(type);
    }
    return ref;
  }

  /** `T | null` is a nullable T; string literals an enum; anything else `oneOf`. */
  private unionOf(types: ts.Type[]): JsonSchema {
    const nullable = types.some((t) => t.flags & ts.TypeFlags.Null);
    const rest = types.filter((t) => !(t.flags & (ts.TypeFlags.Null | ts.TypeFlags.Undefined)));
    let schema: JsonSchema;
    if (rest.every((t) => t.flags & ts.TypeFlags.BooleanLiteral)) schema = { type: 'boolean' };
    else if (rest.every((t) => t.isStringLiteral()))
      schema = { type: 'string', enum: rest.map((t) => t.value) };
    else if (rest.length === 1) schema = this.schemaOf(rest[0]!);
    else schema = { oneOf: rest.map((t) => this.schemaOf(t)) };
    if (!nullable) return schema;
    // A $ref cannot carry `nullable` beside it in OpenAPI 3.0.
    return '$ref' in schema ? { allOf: [schema], nullable: true } : { ...schema, nullable: true };
  }

  /** Interfaces, classes and aliases of object types declared in this repository have a name. */
  private componentName(type: ts.Type): string | undefined {
    const symbol = type.aliasSymbol ?? type.getSymbol();
    if (!symbol || symbol.name.startsWith('__')) return undefined;
    const declaration = symbol.declarations?.[0];
    if (!declaration || declaration.getSourceFile().fileName.includes('node_modules'))
      return undefined;
    const named =
      type.aliasSymbol !== undefined ||
      (symbol.flags & (ts.SymbolFlags.Interface | ts.SymbolFlags.Class)) !== 0;
    return named && !(type.aliasTypeArguments?.length ?? 0) ? symbol.name : undefined;
  }

  private objectOf(type: ts.Type): JsonSchema {
    const properties: Record<string, JsonSchema> = {};
    const required: string[] = [];
    for (const property of this.checker.getPropertiesOfType(type)) {
      const declaration = property.valueDeclaration ?? property.declarations?.[0];
      if (!declaration) continue;
      const propertyType = this.checker.getTypeOfSymbolAtLocation(property, declaration);
      if (propertyType.getCallSignatures().length > 0) continue;
      properties[property.name] = this.annotated(this.schemaOf(propertyType), property);
      if (!(property.flags & ts.SymbolFlags.Optional)) required.push(property.name);
    }
    const index = this.checker.getIndexInfoOfType(type, ts.IndexKind.String);
    return {
      type: 'object',
      ...(Object.keys(properties).length > 0 && { properties }),
      ...(required.length > 0 && { required }),
      ...(index && { additionalProperties: this.schemaOf(index.type) }),
    };
  }

  /** The property's comment and its `@format`, `@integer` and `@example` tags. */
  annotationsOf(property: ts.Symbol): JsonSchema {
    const description = ts.displayPartsToString(property.getDocumentationComment(this.checker));
    const annotations: JsonSchema = description ? { description } : {};
    for (const tag of property.getJsDocTags(this.checker)) {
      const text = ts.displayPartsToString(tag.text).trim();
      if (tag.name === 'format') annotations.format = text;
      if (tag.name === 'integer') annotations.type = 'integer';
      if (tag.name === 'example') annotations.example = exampleValue(text);
    }
    return annotations;
  }

  private annotated(schema: JsonSchema, property: ts.Symbol): JsonSchema {
    const annotations = this.annotationsOf(property);
    if ('$ref' in schema && Object.keys(annotations).length > 0)
      return { allOf: [schema], ...annotations };
    // `@integer` on a `number | null` keeps it nullable; on an array it types the items.
    if (annotations.type === 'integer' && schema.type === 'array') {
      delete annotations.type;
      return {
        ...schema,
        items: { ...(schema.items as JsonSchema), type: 'integer' },
        ...annotations,
      };
    }
    return { ...schema, ...annotations };
  }
}

/** `@example 1250` is a number, `@example {"a":1}` an object, anything else a string. */
function exampleValue(text: string): unknown {
  try {
    return JSON.parse(text) as unknown;
  } catch {
    return text;
  }
}
