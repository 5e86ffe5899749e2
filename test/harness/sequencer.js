'use strict';
// The order jest starts the test files in: the ones that take longest first (the CPU-heavy type checks and
// package scan, then the engine files with the longest waits), so that the short ones fill the gaps at the end
// instead of a long one starting last. Jest would order by the timings it cached on this machine, which a fresh
// clone or CI does not have.
const Sequencer = require('@jest/test-sequencer').default;

const FIRST = ['engine-timeouts', 'engine-detect', 'compat', 'engine-deadlines', 'engine-faults', 'engine-files', 'engine-bulk', 'engine-memory', 'package', 'units'];
const rank = (test) => {
	const name = require('path').basename(test.path).replace(/\.test\.js$/, '');
	const at = FIRST.indexOf(name);
	return at < 0 ? FIRST.length : at;
};

class LongestFirst extends Sequencer {
	sort(tests) {
		return [...tests].sort((a, b) => rank(a) - rank(b) || a.path.localeCompare(b.path));
	}
}

module.exports = LongestFirst;
