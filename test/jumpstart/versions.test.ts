// Version selection as the SageMaker Python SDK does it (aws/sagemaker-python-sdk jumpstart
// cache.py `_select_version`: `*` → `utils.get_latest_version`, max by packaging's Version;
// otherwise `SpecifierSet("==" + version).filter(...)` then max): PEP 440's `==` compares release
// segments with zero padding and `==1.*` is a prefix match (https://peps.python.org/pep-0440/#version-matching).
import t from 'tap'
import { selectVersion, sortVersionsDescending } from '../../src/jumpstart/versions.js'

const AVAILABLE = ['1.0.0', '1.10.0', '1.2.3', '2.0.0', '2.3.7', '2.3.10', '10.0.0']

t.test('"*" is the highest version by number, not by text', async t => {
  t.equal(selectVersion('*', AVAILABLE), '10.0.0')
  t.equal(selectVersion('*', ['2.3.7', '2.3.10']), '2.3.10', '10 > 7 as numbers')
  t.equal(selectVersion('*', []), undefined)
})

t.test('a prefix wildcard is the highest version under it', async t => {
  t.equal(selectVersion('1.*', AVAILABLE), '1.10.0', '1.10.0 > 1.2.3')
  t.equal(selectVersion('2.3.*', AVAILABLE), '2.3.10')
  t.equal(selectVersion('1.2.*', AVAILABLE), '1.2.3')
  t.equal(selectVersion('3.*', AVAILABLE), undefined)
  t.equal(selectVersion('1.*', ['10.0.0', '11.0.0']), undefined, '1.* does not match 10.x (a segment, not a text prefix)')
})

t.test('an exact version matches with zero padding', async t => {
  t.equal(selectVersion('2.3.7', AVAILABLE), '2.3.7')
  t.equal(selectVersion('2', ['2.0.0', '2.0.1']), '2.0.0', '2 == 2.0.0')
  t.equal(selectVersion('2.3.8', AVAILABLE), undefined)
})

t.test('anything else is refused as not a version', async t => {
  for (const bad of ['latest', '1.*.2', '>=1.0', '', '1.x', '1.0.0-local']) {
    t.throws(() => selectVersion(bad, AVAILABLE), RangeError, bad)
  }
})

t.test('versions listed highest first', async t => {
  t.same(sortVersionsDescending(['1.0.0', '2.3.7', '1.10.0', '2.3.10']), ['2.3.10', '2.3.7', '1.10.0', '1.0.0'])
})
