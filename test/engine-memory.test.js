// Tests through n8n's engine with files kept in memory, n8n 1.x's default binary data mode: a file of its own,
// since n8n-core reads the mode when it is first loaded (see engine-detect.test.js for the grouping).
process.env.UD_TEST_BINARY_MODE = 'default';
describe('files kept in memory', () => {
	require('./engine/memory');
});
