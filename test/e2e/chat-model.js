'use strict';
// A scripted OpenAI-compatible chat model on loopback, for AI Agent end-to-end tests: it answers what n8n's OpenAI
// Chat Model sends, POST /v1/chat/completions (typeVersion 1.2) and POST /v1/responses (1.3, the Responses API),
// from a script the test sets, and records every request it receives so a test can see what the model was offered
// (tools: name, description, JSON schema) and what came back from them (the tool results), in either API's shape.
// No streaming: `n8n execute` runs in mode cli, where the agent does not stream.
//
//   const model = await startChatModel();
//   model.script([{ toolCall: { name: 'Detect_image', arguments: { imageUrl } } }, { text: (req) => `Said: ${req.toolResults[0].content}` }]);
//   ... run the workflow ...
//   model.requests  ->  [{ api, path, headers, raw, body, tools, toolResults, messages }, ...]
const http = require('http');

/** One tool offered in a request, in one shape for both APIs. */
function toolsOf(api, body) {
	return (body.tools ?? []).map((t) => {
		const f = api === 'chat' ? t.function ?? {} : t;
		return { name: f.name, description: f.description, parameters: f.parameters, type: t.type };
	});
}

/** The tool results the agent sends back (chat: role "tool" messages; responses: function_call_output items). */
function toolResultsOf(api, body) {
	if (api === 'chat') return (body.messages ?? []).filter((m) => m.role === 'tool').map((m) => ({ callId: m.tool_call_id, content: textOf(m.content) }));
	const input = Array.isArray(body.input) ? body.input : [];
	return input.filter((i) => i.type === 'function_call_output').map((i) => ({ callId: i.call_id, content: textOf(i.output) }));
}

/** The conversation's text messages (system, user, assistant), as {role, content}. */
function messagesOf(api, body) {
	if (api === 'chat') return (body.messages ?? []).filter((m) => m.role !== 'tool').map((m) => ({ role: m.role, content: textOf(m.content) }));
	const input = typeof body.input === 'string' ? [{ role: 'user', content: body.input }] : body.input ?? [];
	const out = input.filter((i) => i.role).map((i) => ({ role: i.role, content: textOf(i.content) }));
	return body.instructions ? [{ role: 'system', content: body.instructions }, ...out] : out;
}

const textOf = (content) => {
	if (typeof content === 'string') return content;
	if (Array.isArray(content)) return content.map((p) => (typeof p === 'string' ? p : p.text ?? '')).join('');
	return content == null ? '' : JSON.stringify(content);
};

/** An answer in the chat completions shape. */
function chatAnswer(turn, n, model) {
	const message = { role: 'assistant', content: null };
	let finish = 'stop';
	if (turn.toolCall) {
		message.tool_calls = [{ id: `call_${n}`, type: 'function', function: { name: turn.toolCall.name, arguments: JSON.stringify(turn.toolCall.arguments ?? {}) } }];
		finish = 'tool_calls';
	} else message.content = turn.text;
	return {
		id: `chatcmpl-${n}`,
		object: 'chat.completion',
		created: Math.floor(Date.now() / 1000),
		model,
		choices: [{ index: 0, message, logprobs: null, finish_reason: finish }],
		usage: { prompt_tokens: 10, completion_tokens: 5, total_tokens: 15 },
	};
}

/** An answer in the Responses API shape: a function_call item, or a message with output_text. */
function responsesAnswer(turn, n, model) {
	const output = turn.toolCall
		? [{ type: 'function_call', id: `fc_${n}`, call_id: `call_${n}`, name: turn.toolCall.name, arguments: JSON.stringify(turn.toolCall.arguments ?? {}), status: 'completed' }]
		: [{ type: 'message', id: `msg_${n}`, role: 'assistant', status: 'completed', content: [{ type: 'output_text', text: turn.text, annotations: [] }] }];
	return {
		id: `resp_${n}`,
		object: 'response',
		created_at: Math.floor(Date.now() / 1000),
		model,
		status: 'completed',
		error: null,
		incomplete_details: null,
		output,
		usage: { input_tokens: 10, output_tokens: 5, total_tokens: 15 },
	};
}

/** Starts the server on 127.0.0.1 (a free port); `url` is what an openAiApi credential's Base URL takes. */
async function startChatModel() {
	let turns = [];
	let next = 0;
	const requests = [];
	const problems = [];
	const server = http.createServer(async (req, res) => {
		const chunks = [];
		for await (const c of req) chunks.push(c);
		const raw = Buffer.concat(chunks).toString();
		const send = (status, json) => {
			res.writeHead(status, { 'content-type': 'application/json' });
			res.end(JSON.stringify(json));
		};
		const route = req.method === 'POST' && { '/v1/chat/completions': 'chat', '/v1/responses': 'responses' }[req.url.split('?')[0]];
		let body;
		try {
			body = JSON.parse(raw || '{}');
		} catch {
			body = undefined;
		}
		const record = { api: route || null, method: req.method, path: req.url, headers: req.headers, raw, body };
		if (route && body) Object.assign(record, { tools: toolsOf(route, body), toolResults: toolResultsOf(route, body), messages: messagesOf(route, body) });
		requests.push(record);
		// Say what went wrong in the answer: the agent puts the model's error into n8n's output, which the test prints.
		const refuse = (status, message) => {
			problems.push(`${req.method} ${req.url}: ${message}`);
			send(status, { error: { message: `scripted model: ${message}`, type: 'invalid_request_error', code: null } });
		};
		if (!route) return refuse(404, 'only POST /v1/chat/completions and POST /v1/responses are served');
		if (!body) return refuse(400, 'the body is not JSON');
		if (body.stream) return refuse(400, 'streaming was asked for, and this model only answers whole');
		if (next >= turns.length) return refuse(500, `the script has ${turns.length} answer(s) and this is request ${next + 1}`);
		const step = turns[next++];
		const turn = typeof step === 'function' ? step(record) : { ...step, text: typeof step.text === 'function' ? step.text(record) : step.text };
		const n = requests.length;
		send(200, route === 'chat' ? chatAnswer(turn, n, body.model) : responsesAnswer(turn, n, body.model));
	});
	await new Promise((resolve) => server.listen(0, '127.0.0.1', resolve));
	const { port } = server.address();
	return {
		url: `http://127.0.0.1:${port}/v1`,
		port,
		requests,
		problems,
		/** A new script for the next run: each step answers one request, in order; earlier requests are forgotten. */
		script(steps) {
			turns = steps;
			next = 0;
			requests.length = 0;
			problems.length = 0;
		},
		stop: () =>
			new Promise((resolve) => {
				server.closeAllConnections();
				server.close(() => resolve());
			}),
	};
}

module.exports = { startChatModel };
