// Tests through n8n's engine, several topics to a file (see engine-detect.test.js for why).
describe('files wherever n8n puts them', () => {
	require('./engine/files');
});
describe('Get Result', () => {
	require('./engine/results');
});
describe('never billed twice', () => {
	require('./engine/reuse');
});
