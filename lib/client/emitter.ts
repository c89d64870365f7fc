// A small typed emitter instead of node:events, so the browser build has no Node import.
// Unlike node:events, an 'error' without listeners is not thrown: a reconnecting
// client meets refused connections as a matter of course.

type Listener = (...args: any[]) => void
type Wrapped = Listener & { listener?: Listener }

export class Emitter<Events extends { [K in keyof Events]: Listener }> {
  #listeners = new Map<keyof Events, Wrapped[]>()

  on<K extends keyof Events> (event: K, listener: Events[K]): this {
    const list = this.#listeners.get(event)
    if (list === undefined) this.#listeners.set(event, [listener])
    else list.push(listener)
    return this
  }

  once<K extends keyof Events> (event: K, listener: Events[K]): this {
    const wrapped: Wrapped = (...args) => {
      this.off(event, listener)
      listener(...args)
    }
    wrapped.listener = listener
    return this.on(event, wrapped as Events[K])
  }

  off<K extends keyof Events> (event: K, listener: Events[K]): this {
    const list = this.#listeners.get(event)
    if (list === undefined) return this
    const i = list.findIndex((l) => l === listener || l.listener === listener)
    if (i !== -1) list.splice(i, 1)
    return this
  }

  protected emit<K extends keyof Events> (event: K, ...args: Parameters<Events[K]>): void {
    const list = this.#listeners.get(event)
    if (list === undefined) return
    // A copy: listeners may add or remove listeners (once() does) while we iterate.
    for (const listener of list.slice()) listener(...args)
  }
}
