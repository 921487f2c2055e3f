/** Per-language tables that say which syntax nodes are definitions and where their bodies are. */

import type { Node } from 'web-tree-sitter';
import type { LanguageId } from './languages.js';

/** What kind of thing a definition is. */
export type SymbolKind =
  | 'class' | 'interface' | 'struct' | 'enum' | 'trait' | 'impl' | 'module' | 'type'
  | 'function' | 'method' | 'field' | 'variable' | 'rule';

/** How one node type becomes an outline entry. */
export interface DefinitionRule {
  readonly kind: SymbolKind | ((node: Node) => SymbolKind);
  /** The definition's name; undefined means the node is not a definition after all. Default: field `name`. */
  readonly name?: (node: Node) => string | undefined;
  /** The body, left out of the signature. Default: field `body`. */
  readonly body?: (node: Node) => Node | null;
  /** Whether the body holds member definitions worth listing. */
  readonly members?: boolean;
  /** The owner when it is not the enclosing definition (a Go receiver, a C++ `Type::` qualifier). */
  readonly parent?: (node: Node) => string | undefined;
}

/** Everything the outline walker needs to know about one language. */
export interface LanguageRules {
  readonly definitions: ReadonlyMap<string, DefinitionRule>;
  /** Nodes around a definition whose first line belongs to its signature (export, decorators, templates). */
  readonly wrappers: ReadonlySet<string>;
  /** Nodes searched for definitions that belong to the enclosing scope (groups, include guards). */
  readonly transparent: ReadonlySet<string>;
  /** Siblings just before a definition that belong to its signature (Rust attributes). */
  readonly leading: ReadonlySet<string>;
  /** Top-level package and import statements, which the skeleton summarises by their first and last line. */
  readonly imports: ReadonlySet<string>;
}

const field = (name: string) => (node: Node): Node | null => node.childForFieldName(name);
const fieldText = (name: string) => (node: Node): string | undefined => node.childForFieldName(name)?.text;
const ownText = (node: Node): string => node.text;
const noBody = (): null => null;

/** The innermost `declarator` of a C/C++ (or Java/C#) declaration: the node that carries the name. */
function innermostDeclarator(node: Node): Node | undefined {
  let current = node.childForFieldName('declarator') ?? undefined;
  while (current !== undefined) {
    const next = current.childForFieldName('declarator');
    if (next === null) break;
    current = next;
  }
  return current;
}

function hasFunctionDeclarator(node: Node): boolean {
  for (let d = node.childForFieldName('declarator'); d !== null; d = d.childForFieldName('declarator')) {
    if (d.type === 'function_declarator') return true;
  }
  return false;
}

/** The unqualified name of a C/C++ declarator (`Vec<T>::dot` -> `dot`). */
function cName(node: Node): string | undefined {
  const text = innermostDeclarator(node)?.text;
  return text === undefined ? undefined : text.split('::').pop();
}

/** The qualifier of an out-of-class C++ definition (`Vec<T>::dot` -> `Vec`). */
function cQualifier(node: Node): string | undefined {
  const parts = innermostDeclarator(node)?.text.split('::') ?? [];
  return parts.length < 2 ? undefined : parts.slice(0, -1).join('::').replace(/<[^]*>/g, '');
}

function pythonAssignmentName(node: Node): string | undefined {
  const left = node.childForFieldName('left');
  return left?.type === 'identifier' ? left.text : undefined;
}

const FUNCTION_VALUES = new Set(['arrow_function', 'function_expression', 'function', 'generator_function']);

function jsDeclaratorKind(node: Node): SymbolKind {
  const value = node.childForFieldName('value')?.type ?? '';
  if (FUNCTION_VALUES.has(value)) return 'function';
  return value === 'class' ? 'class' : 'variable';
}

function goReceiverType(node: Node): string | undefined {
  const param = node.childForFieldName('receiver')?.namedChildren.find((c) => c?.type === 'parameter_declaration');
  const type = param?.childForFieldName('type')?.text;
  return type?.replace(/^\*/, '').replace(/\[.*\]$/, '');
}

function goTypeKind(node: Node): SymbolKind {
  const type = node.childForFieldName('type')?.type;
  return type === 'struct_type' ? 'struct' : type === 'interface_type' ? 'interface' : 'type';
}

function goTypeBody(node: Node): Node | null {
  const type = node.childForFieldName('type');
  return type !== null && (type.type === 'struct_type' || type.type === 'interface_type') ? type : null;
}

function rules(
  definitions: Record<string, DefinitionRule>,
  sets: { wrappers?: string[]; transparent?: string[]; leading?: string[]; imports?: string[] },
): LanguageRules {
  return {
    definitions: new Map(Object.entries(definitions)),
    wrappers: new Set(sets.wrappers ?? []),
    transparent: new Set(sets.transparent ?? []),
    leading: new Set(sets.leading ?? []),
    imports: new Set(sets.imports ?? []),
  };
}

const python = rules({
  class_definition: { kind: 'class', members: true },
  function_definition: { kind: 'function' },
  assignment: { kind: 'variable', name: pythonAssignmentName, body: noBody },
}, {
  wrappers: ['decorated_definition', 'expression_statement'],
  imports: ['import_statement', 'import_from_statement', 'future_import_statement'],
});

const javascriptLike = rules({
  function_declaration: { kind: 'function' },
  generator_function_declaration: { kind: 'function' },
  function_signature: { kind: 'function' },
  class_declaration: { kind: 'class', members: true },
  abstract_class_declaration: { kind: 'class', members: true },
  interface_declaration: { kind: 'interface', members: true },
  type_alias_declaration: { kind: 'type', body: field('value') },
  enum_declaration: { kind: 'enum', members: true },
  enum_assignment: { kind: 'field', body: noBody },
  property_identifier: { kind: 'field', name: ownText, body: noBody },
  internal_module: { kind: 'module', members: true },
  module: { kind: 'module', members: true },
  method_definition: { kind: 'method' },
  method_signature: { kind: 'method' },
  abstract_method_signature: { kind: 'method' },
  property_signature: { kind: 'field' },
  public_field_definition: { kind: 'field', body: noBody },
  field_definition: { kind: 'field', name: fieldText('property'), body: noBody },
  variable_declarator: {
    kind: jsDeclaratorKind,
    body: (node) => node.childForFieldName('value')?.childForFieldName('body') ?? null,
    members: true,
  },
}, {
  wrappers: ['export_statement', 'lexical_declaration', 'variable_declaration', 'ambient_declaration', 'expression_statement'],
  imports: ['import_statement'],
});

const go = rules({
  function_declaration: { kind: 'function' },
  method_declaration: { kind: 'method', parent: goReceiverType },
  type_spec: { kind: goTypeKind, body: goTypeBody, members: true },
  type_alias: { kind: 'type', body: noBody },
  method_elem: { kind: 'method' },
  method_spec: { kind: 'method' },
  field_declaration: { kind: 'field', name: (n) => fieldText('name')(n) ?? fieldText('type')(n), body: noBody },
  const_spec: { kind: 'variable', body: noBody },
  var_spec: { kind: 'variable', body: noBody },
}, {
  transparent: ['type_declaration', 'const_declaration', 'var_declaration', 'field_declaration_list'],
  imports: ['package_clause', 'import_declaration'],
});

const rust = rules({
  function_item: { kind: 'function' },
  function_signature_item: { kind: 'function' },
  struct_item: { kind: 'struct', members: true },
  union_item: { kind: 'struct', members: true },
  enum_item: { kind: 'enum', members: true },
  enum_variant: { kind: 'field', body: noBody },
  trait_item: { kind: 'trait', members: true },
  impl_item: { kind: 'impl', name: fieldText('type'), members: true },
  mod_item: { kind: 'module', members: true },
  type_item: { kind: 'type', body: noBody },
  associated_type: { kind: 'type', body: noBody },
  const_item: { kind: 'variable', body: noBody },
  static_item: { kind: 'variable', body: noBody },
  field_declaration: { kind: 'field', body: noBody },
  macro_definition: { kind: 'function', body: noBody },
}, {
  leading: ['attribute_item'],
  imports: ['use_declaration', 'extern_crate_declaration'],
});

const javaDeclaratorName = (node: Node): string | undefined =>
  node.childForFieldName('declarator')?.childForFieldName('name')?.text;

const java = rules({
  class_declaration: { kind: 'class', members: true },
  record_declaration: { kind: 'class', members: true },
  interface_declaration: { kind: 'interface', members: true },
  annotation_type_declaration: { kind: 'interface', members: true },
  enum_declaration: { kind: 'enum', members: true },
  enum_constant: { kind: 'field', body: noBody },
  method_declaration: { kind: 'method' },
  constructor_declaration: { kind: 'method' },
  compact_constructor_declaration: { kind: 'method' },
  annotation_type_element_declaration: { kind: 'method' },
  field_declaration: { kind: 'field', name: javaDeclaratorName, body: noBody },
  constant_declaration: { kind: 'field', name: javaDeclaratorName, body: noBody },
}, {
  transparent: ['enum_body_declarations'],
  imports: ['package_declaration', 'import_declaration'],
});

function csharpFieldName(node: Node): string | undefined {
  const declaration = node.namedChildren.find((c) => c?.type === 'variable_declaration');
  const declarator = declaration?.namedChildren.find((c) => c?.type === 'variable_declarator');
  return declarator?.childForFieldName('name')?.text ?? declarator?.namedChildren[0]?.text;
}

const csharp = rules({
  namespace_declaration: { kind: 'module', members: true },
  file_scoped_namespace_declaration: { kind: 'module', body: noBody },
  class_declaration: { kind: 'class', members: true },
  record_declaration: { kind: 'class', members: true },
  struct_declaration: { kind: 'struct', members: true },
  interface_declaration: { kind: 'interface', members: true },
  enum_declaration: { kind: 'enum', members: true },
  enum_member_declaration: { kind: 'field', body: noBody },
  method_declaration: { kind: 'method' },
  constructor_declaration: { kind: 'method' },
  destructor_declaration: { kind: 'method' },
  property_declaration: { kind: 'field', body: noBody },
  field_declaration: { kind: 'field', name: csharpFieldName, body: noBody },
  delegate_declaration: { kind: 'type', body: noBody },
}, {
  imports: ['using_directive'],
});

const cDeclarationKind = (node: Node): SymbolKind => (hasFunctionDeclarator(node) ? 'function' : 'variable');

const cpp = rules({
  function_definition: { kind: 'function', name: cName, parent: cQualifier },
  declaration: { kind: cDeclarationKind, name: cName, body: noBody, parent: cQualifier },
  field_declaration: { kind: cDeclarationKind, name: cName, body: noBody },
  class_specifier: { kind: 'class', members: true },
  struct_specifier: { kind: 'struct', members: true },
  union_specifier: { kind: 'struct', members: true },
  enum_specifier: { kind: 'enum', members: true },
  enumerator: { kind: 'field', body: noBody },
  namespace_definition: { kind: 'module', members: true },
  type_definition: {
    kind: 'type',
    name: (node) => innermostDeclarator(node)?.text,
    body: (node) => node.childForFieldName('type')?.childForFieldName('body') ?? null,
    members: true,
  },
  alias_declaration: { kind: 'type', body: noBody },
  preproc_function_def: { kind: 'function', body: noBody },
}, {
  wrappers: ['template_declaration'],
  transparent: ['linkage_specification', 'declaration_list', 'preproc_ifdef', 'preproc_if', 'preproc_else', 'preproc_elif'],
  imports: ['preproc_include'],
});

const ruby = rules({
  class: { kind: 'class', members: true },
  module: { kind: 'module', members: true },
  method: { kind: 'function' },
  singleton_method: { kind: 'method' },
}, {});

const php = rules({
  namespace_definition: { kind: 'module', members: true },
  class_declaration: { kind: 'class', members: true },
  interface_declaration: { kind: 'interface', members: true },
  trait_declaration: { kind: 'trait', members: true },
  enum_declaration: { kind: 'enum', members: true },
  enum_case: { kind: 'field', body: noBody },
  function_definition: { kind: 'function' },
  method_declaration: { kind: 'method' },
  property_declaration: {
    kind: 'field',
    name: (node) => node.namedChildren.find((c) => c?.type === 'property_element')?.childForFieldName('name')?.text,
    body: noBody,
  },
  const_declaration: {
    kind: 'variable',
    name: (node) => node.namedChildren.find((c) => c?.type === 'const_element')?.namedChildren[0]?.text,
    body: noBody,
  },
}, {
  imports: ['namespace_use_declaration'],
});

const bash = rules({ function_definition: { kind: 'function' } }, {});

const cssBlock = (node: Node): Node | null => node.namedChildren.find((c) => c?.type === 'block') ?? null;
const cssPrelude = (node: Node): string => node.text.slice(0, Math.max(0, node.text.indexOf('{'))).trim();

const css = rules({
  rule_set: { kind: 'rule', name: cssPrelude, body: cssBlock },
  media_statement: { kind: 'rule', name: cssPrelude, body: cssBlock, members: true },
  supports_statement: { kind: 'rule', name: cssPrelude, body: cssBlock, members: true },
}, {
  imports: ['import_statement'],
});

/** The rules for each language; C shares the C++ grammar and therefore its rules. */
export const outlineRules: Readonly<Record<LanguageId, LanguageRules>> = {
  python,
  typescript: javascriptLike,
  tsx: javascriptLike,
  javascript: javascriptLike,
  go,
  rust,
  java,
  c_sharp: csharp,
  cpp,
  c: cpp,
  ruby,
  php,
  bash,
  css,
};
