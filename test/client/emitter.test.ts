import t from 'tap'
import { Emitter } from '../../lib/client/emitter.js'

interface Events { ping: (n: number) => void, error: (err: Error) => void }
class Test extends Emitter<Events> {
  fire<K extends keyof Events> (event: K, ...args: Parameters<Events[K]>): void { this.emit(event, ...args) }
}

t.test('on, once, off, in registration order', async (t) => {
  const e = new Test()
  const seen: string[] = []
  const a = (n: number): void => { seen.push(`a${n}`) }
  const b = (n: number): void => { seen.push(`b${n}`) }
  t.equal(e.on('ping', a).once('ping', b), e, 'chainable')
  e.fire('ping', 1)
  e.fire('ping', 2)
  t.same(seen, ['a1', 'b1', 'a2'])
  e.off('ping', a)
  e.fire('ping', 3)
  t.same(seen, ['a1', 'b1', 'a2'])
})

t.test('off() removes a once() listener before it fires', async (t) => {
  const e = new Test()
  let calls = 0
  const l = (): void => { calls++ }
  e.once('ping', l).off('ping', l)
  e.fire('ping', 1)
  t.equal(calls, 0)
})

t.test('listeners removed or added while emitting do not disturb that emit', async (t) => {
  const e = new Test()
  const seen: string[] = []
  const b = (): void => { seen.push('b') }
  e.on('ping', () => { seen.push('a'); e.off('ping', b); e.on('ping', () => seen.push('c')) })
  e.on('ping', b)
  e.fire('ping', 1)
  t.same(seen, ['a', 'b'])
})

t.test('an error with no listener is not thrown', async (t) => {
  t.doesNotThrow(() => new Test().fire('error', new Error('refused')))
})
