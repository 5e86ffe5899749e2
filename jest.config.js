/** Tests are plain CommonJS against the built package (dist/), which n8n-core loads as n8n would. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/**/*.test.js'],
	testTimeout: 60_000,
	// Plain CommonJS, tests and the built package alike: nothing to transform.
	transform: {},
	// Six workers on this 2-core machine (jest's default would be one): the engine tests mostly wait on the simulator
	// and on deadlines, so more files than cores run at once (measured here: 6 workers 23 s, 5 24 s, 4 26-29 s).
	maxWorkers: 6,
	// The longest files first, whatever jest cached (see the file).
	testSequencer: '<rootDir>/test/harness/sequencer.js',
};
