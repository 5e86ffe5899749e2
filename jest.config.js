/** Tests are plain CommonJS against the built package (dist/), which n8n-core loads as n8n would. */
module.exports = {
	testEnvironment: 'node',
	roots: ['<rootDir>/test'],
	testMatch: ['<rootDir>/test/**/*.test.js'],
	testTimeout: 60_000,
	// Four workers on this 2-core machine (jest's default would be one): the tests mostly wait on the simulator and
	// on deadlines (28 s of CPU in 31 s of wall time with two workers), so four finish in about 19 s.
	maxWorkers: 4,
};
