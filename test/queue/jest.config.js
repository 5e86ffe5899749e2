/** Queue mode: Redis, an n8n main and two workers (n8n 2.8.4, installed on first run outside the repo). */
module.exports = {
	rootDir: '../..',
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/queue/**/*.e2e.js'],
	testTimeout: 10 * 60_000,
};
