// Tests through n8n's engine, several topics to a file: every test file loads n8n-core afresh (about 1.4 s of CPU
// on this machine), so the engine topics (test/engine/*.js) share seven files, balanced by how long they take.
describe('Detect', () => {
	require('./engine/detect');
});
describe('input refused before any request', () => {
	require('./engine/validation');
});
describe('as an AI agent tool', () => {
	require('./engine/tool');
});
