// Pushes log lines through winston-loki (a maintained Loki client from npm, unchanged) to a
// collector: JSON, or protobuf + snappy (its default when the snappy binding loads).
// Usage: node push.js URL API_KEY MARKER COUNT json|protobuf
// Exits 0 only if every batch was answered 2xx (and, for protobuf, snappy was used).
'use strict'
const winston = require('winston')
const LokiTransport = require('winston-loki')

async function main () {
  const [url, key, marker, countText, mode] = process.argv.slice(2)
  const count = Number(countText)
  let failures = 0
  const transport = new LokiTransport({
    host: url,
    basicAuth: 'tenant:' + key, // Loki clients' basic auth: the password is the API key
    labels: { app: 'winston-' + mode, host: 'node-host' },
    json: mode === 'json',
    batching: true,
    interval: 0.2,
    timeout: 10000,
    gracefulShutdown: false,
    onConnectionError: (err) => {
      failures++
      console.error('push failed:', err.message)
    }
  })
  if (mode === 'protobuf' && transport.batcher.options.json) {
    console.error('winston-loki fell back to JSON: the snappy binding did not load')
    process.exit(2)
  }
  const logger = winston.createLogger({ level: 'debug', transports: [transport] })
  for (let i = 0; i < count; i++) {
    logger.warn(`${marker}-${i}`, { labels: { shard: String(i % 2) } })
  }
  await new Promise((resolve) => setTimeout(resolve, 300))
  await transport.flush()
  await transport.close()
  console.log(JSON.stringify({ mode, count, failures }))
  process.exit(failures === 0 ? 0 : 1)
}

main().catch((err) => {
  console.error(err)
  process.exit(3)
})
