// Tests through n8n's engine, several topics to a file (see engine-detect.test.js for why).
describe('Bulk Detect', () => {
	require('./engine/bulk');
});
describe('hardening', () => {
	require('./engine/hardening');
});
