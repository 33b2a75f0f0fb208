import type { TransportRequest, TransportResponse } from '../../stream/aws/clientConfig.js';

/** One scripted answer of a server thread: given the request, what it answers. */
export type ScriptedAnswer = (
  request: TransportRequest,
) => TransportResponse | Promise<TransportResponse>;

/**
 * A server thread's transport that answers from a list, in order, keeping what it was asked
 * (`asked`); a request past the end of the list fails, as a server thread that stopped would.
 */
export function scriptedServer(answers: ScriptedAnswer[]) {
  const asked: TransportRequest[] = [];
  const transport = async (request: TransportRequest): Promise<TransportResponse> => {
    asked.push(request);
    const answer = answers.shift();
    if (!answer) throw new Error('no answer left');
    return answer(request);
  };
  return { asked, transport };
}

/** A 200 answer with this JSON body. */
export const answerOk = (body: object) => () => ({
  status: 200,
  headers: { 'x-amzn-requestid': 'r-1' },
  body: JSON.stringify(body),
});

/** Whether a request came through the SDK's own path (its retry middleware's header). */
export const bySdk = (request: TransportRequest): boolean => 'amz-sdk-request' in request.headers;
