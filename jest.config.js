/** Tests are plain CommonJS against the built package (dist/), which n8n-core loads as n8n would. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/**/*.test.js'],
	testTimeout: 60_000,
	// Two workers on this 2-core machine (jest's default would be one): most of a test's time is spent waiting.
	maxWorkers: 2,
};
