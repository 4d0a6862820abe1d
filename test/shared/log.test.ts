import t from 'tap';
import { redactUrl } from '../../shared/log.js';

t.test('redactUrl masks credentials in any URL scheme', async (t) => {
  t.equal(redactUrl('rtsp://admin:s3cret@127.0.0.1:554/stream1'), 'rtsp://***:***@127.0.0.1:554/stream1');
  t.equal(redactUrl('failed mqtt://user:pw@127.0.0.1:1883 now'), 'failed mqtt://***:***@127.0.0.1:1883 now');
  t.equal(redactUrl('http://127.0.0.1:8000/x'), 'http://127.0.0.1:8000/x', 'no credentials, unchanged');
  t.notMatch(redactUrl('rtsp://user@127.0.0.1/a'), /user@/);
});
