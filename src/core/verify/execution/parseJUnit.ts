/** Reads JUnit XML reports (pytest's --junitxml, Maven surefire, Gradle, jest-junit) into per-test outcomes. */
import { record, type TestResults, type TestStatus } from './testResults.js';
import { descendants, parseXml, type XmlElement } from './xml.js';

/**
 * Parses one JUnit XML report. A test's id is `classname.name`, except for pytest reports that carry a
 * `file` attribute (`-o junit_family=xunit1`), whose ids are turned back into pytest node ids
 * (`tests/test_a.py::TestX::test_y`), the same ids as its `-rA` summary lines.
 */
export function parseJUnit(xml: string, into: TestResults = new Map()): TestResults {
  for (const testcase of descendants(parseXml(xml), 'testcase')) {
    const name = testcase.attributes.name ?? '';
    if (name === '') continue;
    record(into, testId(testcase.attributes), statusOf(testcase));
  }
  return into;
}

function statusOf(testcase: XmlElement): TestStatus {
  const kinds = new Set(testcase.children.map((child) => child.name));
  if (kinds.has('error')) return 'error';
  if (kinds.has('failure')) return 'failed';
  // pytest reports an expected failure as skipped with this type; a strict XPASS is already a failure.
  if (kinds.has('skipped')) return testcase.children.some((c) => c.name === 'skipped' && c.attributes.type === 'pytest.xfail') ? 'xfailed' : 'skipped';
  return 'passed';
}

function testId(attributes: Record<string, string>): string {
  const { classname = '', name = '', file } = attributes;
  if (file !== undefined && file.endsWith('.py')) {
    const nodeId = pytestNodeId(file, classname, name);
    if (nodeId !== undefined) return nodeId;
  }
  return classname === '' ? name : `${classname}.${name}`;
}

/**
 * pytest writes `classname` as the node id with `/` turned into `.` and `.py` dropped, so the file's dotted
 * module is a prefix of it and what follows are the classes. A test defined in another file than the one it
 * was collected from (an inherited test) does not match, and keeps the plain id.
 */
function pytestNodeId(file: string, classname: string, name: string): string | undefined {
  const module = file.replace(/\\/g, '/').replace(/\.py$/, '').split('/').join('.');
  if (classname !== module && !classname.startsWith(`${module}.`)) return undefined;
  const classes = classname.slice(module.length).split('.').filter(Boolean);
  return [file.replace(/\\/g, '/'), ...classes, name].join('::');
}
