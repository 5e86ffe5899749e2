/** End-to-end: the example workflows in a real n8n (installed on first run into .cache/), against the simulator. */
module.exports = {
	rootDir: '../..',
	testEnvironment: 'node',
	roots: ['<rootDir>/test', '<rootDir>/demo'],
	testMatch: ['<rootDir>/test/e2e/**/*.e2e.js'],
	testTimeout: 15 * 60_000,
};
