import { describe, expect, it } from 'vitest';
import { outline, type OutlineEntry } from '../../../src/core/code/outline.js';
import { findDefinitions } from '../../../src/core/code/symbols.js';
import { fixture } from './fixtures.js';

/** `kind name start-signatureEnd-end parent` per entry, indented by depth: compact and exact. */
function summary(entries: OutlineEntry[] | undefined): string[] {
  return (entries ?? []).map((e) => `${'  '.repeat(e.depth)}${e.kind} ${e.name} ${e.startLine}-${e.signatureEndLine}-${e.endLine}${e.parent === undefined ? '' : ` <${e.parent}>`}`);
}

describe('outline', () => {
  it('lists Python classes, methods, fields and functions with decorators in the range', async () => {
    expect(summary(await outline('shop.py', fixture('shop.py')))).toEqual([
      'variable TAX 10-10-10',
      'class Item 13-14-20',
      '  field name 15-15-15 <Item>',
      '  field price 16-16-16 <Item>',
      '  field tags 17-17-17 <Item>',
      '  method with_tax 19-19-20 <Item>',
      'class Cart 23-23-40',
      '  method __init__ 26-26-28 <Cart>',
      '  method add 30-31-33 <Cart>',
      '  method total 35-36-37 <Cart>',
      '  class Error 39-39-40 <Cart>',
      'function load 43-43-50',
      'function fetch 53-53-53',
    ]);
  });

  it('lists TypeScript interfaces, types, enums, classes, arrow functions and namespaces', async () => {
    expect(summary(await outline('inventory.ts', fixture('inventory.ts')))).toEqual([
      'interface Priced 5-5-8',
      '  field price 6-6-6 <Priced>',
      '  method discount 7-7-7 <Priced>',
      'type ItemId 10-10-10',
      'enum Status 12-12-15',
      '  field Active 13-13-13 <Status>',
      '  field Archived 14-14-14 <Status>',
      'class Inventory 17-18-44',
      '  field items 19-19-19 <Inventory>',
      '  field instances 20-20-20 <Inventory>',
      '  method constructor 22-22-24 <Inventory>',
      '  method add 26-26-28 <Inventory>',
      '  method load 30-33-37 <Inventory>',
      '  method describe 39-39-39 <Inventory>',
      '  method [Symbol.iterator] 41-41-43 <Inventory>',
      'function total 46-46-48',
      'function cheapest 50-50-51',
      'variable LIMIT 53-53-53',
      'module Legacy 55-55-57',
      '  function old 56-56-56 <Legacy>',
    ]);
  });

  it('lists TSX components and JavaScript class fields', async () => {
    expect(summary(await outline('App.tsx', fixture('App.tsx')))).toEqual([
      'interface Props 3-3-3',
      '  field title 3-3-3 <Props>',
      'function Counter 5-5-8',
      'class App 10-10-14',
      '  method render 11-11-13 <App>',
    ]);
    const js = 'class Queue {\n  #items = [];\n  push = (x) => {\n    this.#items.push(x);\n  };\n}\nexport default Queue;\n';
    expect(summary(await outline('queue.js', js))).toEqual([
      'class Queue 1-1-6',
      '  field #items 2-2-2 <Queue>',
      '  field push 3-3-5 <Queue>',
    ]);
  });

  it('lists Go types, methods with their receiver and grouped type specs', async () => {
    expect(summary(await outline('server.go', fixture('server.go')))).toEqual([
      'interface Handler 9-9-12',
      '  method ServeHTTP 10-10-10 <Handler>',
      '  method Name 11-11-11 <Handler>',
      'struct Server 14-14-17',
      '  field Addr 15-15-15 <Server>',
      '  field Timeout 16-16-16 <Server>',
      'type ID 20-20-20',
      'type Names 21-21-21',
      'function New 25-25-27',
      'method Start 29-31-34 <Server>',
      'method String 36-36-36 <Server>',
    ]);
  });

  it('lists Rust structs, enums, traits, impls and modules with attributes in the range', async () => {
    expect(summary(await outline('geometry.rs', fixture('geometry.rs')))).toEqual([
      'struct Point 5-6-9',
      '  field x 7-7-7 <Point>',
      '  field y 8-8-8 <Point>',
      'enum Shape 11-11-14',
      '  field Circle 12-12-12 <Shape>',
      '  field Square 13-13-13 <Shape>',
      'trait Area 16-16-21',
      '  method area 17-17-17 <Area>',
      '  method describe 18-18-20 <Area>',
      'impl Shape 23-23-30',
      '  method area 24-24-29 <Shape>',
      'impl Point 32-32-36',
      '  method fmt 33-33-35 <Point>',
      'type Registry 38-38-38',
      'module tests 40-40-42',
      '  function helper 41-41-41 <tests>',
      'function largest 44-44-46',
    ]);
  });

  it('lists Java classes, records, nested interfaces and enums', async () => {
    expect(summary(await outline('Library.java', fixture('Library.java')))).toEqual([
      'class Library 7-7-47',
      '  field books 8-8-8 <Library>',
      '  method Library 10-10-11 <Library>',
      '  method toString 13-14-16 <Library>',
      '  method findByAuthor 18-19-27 <Library>',
      '  class Book 29-29-33 <Library>',
      '    method Book 30-30-32 <Book>',
      '  interface Listener 35-35-37 <Library>',
      '    method onAdd 36-36-36 <Listener>',
      '  enum Genre 39-39-46 <Library>',
      '    field FICTION 40-40-40 <Genre>',
      '    field SCIENCE 41-41-41 <Genre>',
      '    method label 43-43-45 <Genre>',
    ]);
  });

  it('covers the other grammars: C#, C++, Ruby, PHP, Bash and CSS', async () => {
    const names = async (file: string) => (await outline(file, fixture(file)))?.map((e) => `${e.kind} ${e.name}`);
    expect(await names('Account.cs')).toEqual([
      'module Bank', 'interface IAccount', 'field Balance', 'class Account', 'field balance', 'field Balance',
      'method Account', 'method Deposit', 'enum Kind', 'field Checking', 'field Savings', 'struct Money', 'field Amount',
    ]);
    expect(await names('vec.cpp')).toEqual([
      'module geo', 'class Vec', 'method Vec', 'method dot', 'field x_', 'field y_', 'struct Pair', 'field a', 'field b',
      'type Count', 'field n', 'enum Color', 'field Red', 'field Green', 'function add', 'function dot', 'function helper',
    ]);
    expect(await names('billing.rb')).toEqual(['module Billing', 'class Invoice', 'method initialize', 'method parse', 'method to_s']);
    expect(await names('repo.php')).toEqual(['module App\\Models', 'class UserRepo', 'field $users', 'field LIMIT', 'method find', 'function helper']);
    expect(await names('deploy.sh')).toEqual(['function build', 'function deploy']);
    expect(await names('site.css')).toEqual(['rule body', 'rule .nav a:hover, .nav a:focus', 'rule @media (max-width: 600px)', 'rule .nav']);
  });

  it('returns undefined for an unsupported language and an empty list for a file without definitions', async () => {
    expect(await outline('notes.txt', 'def f(): pass\n')).toBeUndefined();
    expect(await outline('main.py', 'print("hi")\nif __name__ == "__main__":\n    main()\n')).toEqual([]);
  });
});

describe('findDefinitions', () => {
  const files = [
    { path: 'shop/cart.py', text: fixture('shop.py') },
    { path: 'web/inventory.ts', text: fixture('inventory.ts') },
    { path: 'geo/geometry.rs', text: fixture('geometry.rs') },
    { path: 'geo/vec.cpp', text: fixture('vec.cpp') },
    { path: 'docs/notes.md', text: 'def add(x): the add function\n' },
  ];

  it('finds a name in every file that defines it, with line numbers and parents', async () => {
    expect(await findDefinitions('add', files)).toEqual([
      { path: 'shop/cart.py', name: 'add', kind: 'method', startLine: 30, endLine: 33, parent: 'Cart' },
      { path: 'web/inventory.ts', name: 'add', kind: 'method', startLine: 26, endLine: 28, parent: 'Inventory' },
      { path: 'geo/vec.cpp', name: 'add', kind: 'function', startLine: 22, endLine: 22, parent: 'geo' },
    ]);
  });

  it('narrows a qualified name to members of that parent', async () => {
    expect(await findDefinitions('Cart.add', files)).toEqual([
      { path: 'shop/cart.py', name: 'add', kind: 'method', startLine: 30, endLine: 33, parent: 'Cart' },
    ]);
    const dots = await findDefinitions('Vec::dot', files);
    expect(dots.map((d) => [d.kind, d.startLine, d.endLine])).toEqual([['method', 10, 10], ['function', 24, 27]]);
  });

  it('reports a Rust type once, not once per impl block', async () => {
    expect(await findDefinitions('Point', files)).toEqual([
      { path: 'geo/geometry.rs', name: 'Point', kind: 'struct', startLine: 5, endLine: 9 },
    ]);
    const areas = await findDefinitions('area', files);
    expect(areas.map((d) => `${d.parent}.${d.name}:${d.startLine}`)).toEqual(['Area.area:17', 'Shape.area:24']);
  });

  it('returns nothing for an unknown name or an empty query', async () => {
    expect(await findDefinitions('nowhere', files)).toEqual([]);
    expect(await findDefinitions('', files)).toEqual([]);
  });
});
