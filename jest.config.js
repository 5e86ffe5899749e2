/** Tests are plain CommonJS against the built package (dist/), which n8n-core loads as n8n would. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/**/*.test.js'],
	testTimeout: 60_000,
};
