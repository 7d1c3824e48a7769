// The live view of `parley run --ui`: plain browser JavaScript, no build. It reads one stream of
// server-sent events (cli/ui/feed.ts: `hello`, then every event the run prints) and sends
// commands as the terminal would take them. Data is only ever written as text (no innerHTML).
'use strict'
;(() => {
  const token = document.querySelector('meta[name="parley-token"]').content
  const $ = (sel) => document.querySelector(sel)
  const el = (tag, props = {}, ...children) => {
    const e = document.createElement(tag)
    for (const [k, v] of Object.entries(props)) {
      if (k === 'class') e.className = v
      else if (k === 'dataset') Object.assign(e.dataset, v)
      else if (k.startsWith('on')) e.addEventListener(k.slice(2), v)
      else e.setAttribute(k, v)
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c instanceof Node ? c : String(c))
    return e
  }

  const view = {
    hello: undefined, me: -1, participants: [], asset: { symbol: '', decimals: 18 },
    connected: new Set(), status: new Map(), offchain: undefined, manager: undefined, payouts: undefined,
    txs: new Map(), phase: 'connecting', head: undefined, deadlines: new Map(), courtCount: 0,
  }

  /** A decimal string of base units in the channel's asset. */
  const amount = (v) => {
    if (v === undefined || v === null) return '—'
    const n = BigInt(v), d = BigInt(view.asset.decimals), neg = n < 0n, a = neg ? -n : n
    const unit = 10n ** d, whole = a / unit, frac = (a % unit).toString().padStart(Number(d), '0').replace(/0+$/, '')
    return `${neg ? '-' : ''}${whole}${frac ? `.${frac}` : ''} ${view.asset.symbol}`
  }
  const who = (i) => (i === view.me ? `#${i} (you)` : `#${i}`)
  const short = (h) => (typeof h === 'string' && h.length > 14 ? `${h.slice(0, 6)}…${h.slice(-4)}` : h)
  const localTime = (iso) => new Date(iso).toLocaleTimeString(undefined, { hour12: false })

  // ── commands ─────────────────────────────────────────────────────────────────────────────
  async function send(line) {
    $('#error').hidden = true
    const res = await fetch('/command', { method: 'POST', headers: { 'Content-Type': 'application/json', 'X-Parley-Token': token }, body: JSON.stringify({ line }) })
    if (!res.ok) {
      const body = await res.json().catch(() => ({ error: { code: 'INTERNAL', message: `HTTP ${res.status}` } }))
      showError(`error ${body.error.code}: ${body.error.message}`)
    }
  }
  function showError(line) {
    const box = $('#error')
    box.textContent = line
    box.hidden = false
  }

  // ── the page's parts ─────────────────────────────────────────────────────────────────────
  function renderPeople() {
    const body = $('#people tbody')
    body.replaceChildren(...view.participants.map((address, i) => {
      const link = i === view.me ? el('span', { class: 'up' }, 'you') : view.connected.has(i) ? el('span', { class: 'up' }, '● connected') : el('span', { class: 'down' }, '○ not connected')
      return el('tr', { id: `participant-${i}` },
        el('td', {}, who(i)), el('td', { class: 'addr', title: address }, short(address)), el('td', { class: 'link' }, link),
        el('td', { class: 'status' }, view.status.get(i) ?? 'active'),
        el('td', { class: 'offchain' }, view.offchain ? amount(view.offchain[i]) : '—'),
        el('td', { class: 'manager' }, view.manager ? amount(view.manager[i]) : '—'),
        el('td', { class: 'payout' }, view.payouts ? amount(view.payouts[i]) : '—'))
    }))
  }

  function renderPhase() {
    const p = $('#phase')
    p.textContent = view.phase
    p.className = `pill ${view.phase}`
    const h = view.head
    $('#turn').textContent = h ? `— seq ${h.seq}, next ${who(h.nextActor)}${h.nextActor === view.me ? ': your move' : ''}` : ''
    if (view.board) renderBoard()
  }

  function txRow(fork, seq) {
    const key = `${fork}:${seq}`
    let tx = view.txs.get(key)
    if (!tx) {
      tx = { fork, seq, author: undefined, text: '', signers: new Set(), final: undefined }
      view.txs.set(key, tx)
      const row = el('tr', { id: `tx-${fork}-${seq}`, class: 'pending' })
      tx.row = row
      const body = $('#txs tbody')
      const after = [...body.children].find((r) => { const t = view.txs.get(r.dataset.key); return t && (BigInt(t.fork) < BigInt(fork) || (t.fork === fork && BigInt(t.seq) < BigInt(seq))) })
      row.dataset.key = key
      body.insertBefore(row, after ?? null)
    }
    return tx
  }
  function renderTx(tx) {
    const active = view.participants.map((_, i) => i).filter((i) => view.status.get(i) === undefined || view.status.get(i) === 'active')
    const sigs = el('td', { class: 'sigs' }, ...active.map((i) => el('span', { class: `sig${tx.signers.has(i) ? ' signed' : ''}`, title: tx.signers.has(i) ? `signed by #${i}` : `#${i} has not signed` }, `#${i}`)))
    const final = tx.final
      ? `final for ${who(view.me)}${tx.final.byVirtualVoting ? ` by virtual voting (signed by ${tx.final.signers.map((i) => `#${i}`).join(' ')} and later moves)` : ' — signed by all'}`
      : 'not final yet'
    tx.row.className = tx.final ? 'final' : 'pending'
    tx.row.replaceChildren(el('td', {}, tx.fork), el('td', {}, tx.seq), el('td', {}, tx.author === undefined ? '…' : who(tx.author)), el('td', { class: 'state' }, tx.text || '…'), sigs, el('td', { class: 'final' }, final))
  }

  function renderDeadlines() {
    const now = Date.now()
    // A broadcast window matters only while the channel is open (in a dispute the court decides).
    const list = [...view.deadlines.values()].filter((d) => d.kind !== 'move-window' || view.phase === 'open').sort((a, b) => Date.parse(a.local) - Date.parse(b.local))
    $('#deadlines').replaceChildren(...list.map((d) => {
      const left = Math.round((Date.parse(d.local) - now) / 1000)
      return el('li', { class: left < 0 ? 'passed' : '', dataset: { kind: d.kind } }, `${d.label} at ${localTime(d.local)} `,
        el('span', { class: 'count' }, left >= 0 ? `in ${left} s` : `passed ${-left} s ago`))
    }))
  }

  function court(kind, e) {
    const list = $('#court')
    if (view.courtCount++ === 0) list.replaceChildren()
    list.append(el('li', { class: kind, dataset: { kind } }, `${localTime(e.at)} ${kind}: ${e.text}`))
  }

  // ── forms to play ────────────────────────────────────────────────────────────────────────
  function buildForms(h) {
    const machine = h.machine
    if (machine === 'tictactoe') {
      view.board = '.........'
      const board = $('#board')
      board.hidden = false
      board.replaceChildren(...[...Array(9).keys()].map((i) => el('button', { type: 'button', 'data-cell': String(i), title: `cell ${i}`, onclick: () => send(`cell ${i}`) }, '')))
    }
    if (machine === 'payments') {
      const form = $('#pay')
      form.hidden = false
      form.querySelector('select').replaceChildren(...h.participants.map((a, i) => el('option', { value: String(i) }, `#${i}${i === h.me ? ' (you)' : ''} ${short(a)}`)))
      form.querySelector('.unit').textContent = h.asset.symbol
      form.addEventListener('submit', (e) => { e.preventDefault(); void send(`pay ${form.to.value} ${form.amount.value.trim()}`) })
      $('#pass').addEventListener('click', () => void send('pass'))
    }
    const forms = $('#forms')
    if (h.forms.length === 0) forms.append(el('p', { class: 'muted' }, 'this machine is known by its address only: send raw 0x… move data below'))
    if (h.machine === 'payments' || h.machine === 'tictactoe' || h.machine === 'counter') {
      forms.append(el('p', { class: 'muted' }, `arguments as the terminal reads them: participants by index${h.machine === 'payments' ? `, amounts in ${h.asset.symbol}` : ''}`))
    }
    for (const f of h.forms) {
      const inputs = f.inputs.map((p) => el('input', { name: p.name, placeholder: `${p.name}: ${p.type}`, title: p.type, size: '14', required: '' }))
      const form = el('form', { class: 'abi-form', id: `form-${f.name}` }, el('code', {}, f.name), ...inputs, el('button', {}, 'move'))
      form.addEventListener('submit', (e) => { e.preventDefault(); void send([f.name, ...inputs.map((i) => i.value.trim())].join(' ')) })
      forms.append(form)
    }
  }
  function renderBoard() {
    const cells = $('#board').children
    const mine = view.head && view.head.nextActor === view.me && view.phase === 'open' && view.result === 'ongoing'
    for (let i = 0; i < 9; i++) {
      const mark = view.board[i] === '.' ? '' : view.board[i]
      cells[i].textContent = mark
      cells[i].disabled = mark !== '' || !mine
    }
  }

  $('#raw').addEventListener('submit', (e) => { e.preventDefault(); const f = e.target; void send(f.line.value.trim()); f.line.value = '' })
  for (const b of document.querySelectorAll('#actions button')) b.addEventListener('click', () => void send(b.dataset.line))

  // ── the stream ───────────────────────────────────────────────────────────────────────────
  function applyView(seqView) {
    if (!seqView) return
    if (Array.isArray(seqView.balances)) view.offchain = seqView.balances
    if (typeof seqView.board === 'string') { view.board = seqView.board; view.result = seqView.result }
  }

  function logLine(e) {
    // The page's own address carries the token: it is not shown (a shared screen would give it away).
    const text = (e.text ?? `${e.event} ${JSON.stringify(e)}`).replaceAll(token, '…')
    const li = el('li', { class: e.event }, `${localTime(e.at)} ${e.event === 'error' || e.event === 'warning' ? text : `${e.event.padEnd(12)} ${text}`}`)
    const log = $('#log')
    log.append(li)
    li.scrollIntoView({ block: 'nearest' })
  }

  const handlers = {
    hello(e) {
      if (view.hello && view.hello.channelId !== e.channelId) return location.reload() // another channel (the demo's next scenario)
      view.hello = e
      view.me = e.me
      view.participants = e.participants
      view.asset = e.asset
      view.phase = e.phase
      view.connected = new Set(e.connected)
      $('#who').textContent = `#${e.me} · ${e.machine ?? short(e.machineAddress)}`
      $('#channel').textContent = `channel ${short(e.channelId)}`
      $('#channel').title = e.channelId
      buildForms(e)
    },
    ready(e) { view.head = { seq: e.seq, nextActor: e.nextActor }; applyView(e.view); view.phase = e.phase },
    peer(e) { if (e.up) view.connected.add(e.index); else view.connected.delete(e.index) },
    state(e) {
      const tx = txRow(e.fork, e.seq)
      tx.author = e.author
      tx.signers.add(e.author)
      tx.text = e.text.replace(/ — next .*$/, '').replace(/^seq \S+ by \S+( \(you\))?: /, '')
      renderTx(tx)
      view.head = { seq: e.seq, nextActor: e.nextActor }
      applyView(e.view)
    },
    signature(e) { const tx = txRow(e.fork, e.seq); tx.signers.add(e.signer); renderTx(tx) },
    final(e) { const tx = txRow(e.fork, e.seq); tx.final = e; for (const i of e.signers) tx.signers.add(i); renderTx(tx) },
    phase(e) { view.phase = e.to },
    balances(e) { view.manager = e.manager },
    deadline(e) {
      for (const [k, d] of view.deadlines) if (d.kind === 'move-window') view.deadlines.delete(k)
      view.deadlines.set('move-window', { kind: 'move-window', local: e.deadlineLocal, label: `${who(e.actor)}'s broadcast window after seq ${e.seq} closes` })
    },
    dispute(e) {
      view.deadlines.set(`dispute-${e.fork}`, { kind: 'dispute', local: e.deadlineLocal, label: `the ${e.kind} dispute on fork ${e.fork} ends` })
      court('dispute', e)
    },
    'move-needed'(e) { view.deadlines.set(`timeout-${e.fork}`, { kind: 'timeout', local: e.deadlineLocal, label: 'your answer to the timeout is due' }) },
    answered(e) { court('answered', e) },
    cancelled(e) { view.deadlines.delete(`dispute-${e.fork}`); court('cancelled', e) },
    resolved(e) { for (const k of [...view.deadlines.keys()]) if (k.startsWith('dispute-') || k.startsWith('timeout-')) view.deadlines.delete(k); court('resolved', e) },
    removed(e) { view.status.set(e.index, 'removed'); court('removed', e) },
    slashed(e) { view.status.set(e.index, 'slashed'); court('slashed', e) },
    fork(e) { court('fork', e); applyView(e.view) },
    fraud(e) { court('fraud', e) },
    'close-signed'(e) { court('close-signed', e) },
    'close-mined'(e) { court('close-mined', e) },
    'close-preempted'(e) { court('close-preempted', e) },
    closed(e) { view.payouts = e.payouts; view.phase = 'closed'; view.deadlines.clear(); court('closed', e) },
    error(e) { showError(e.text) },
    stopped() { view.phase = 'stopped' },
  }

  function onEvent(e) {
    handlers[e.event]?.(e)
    if (e.event !== 'hello' && e.event !== 'balances' && e.event !== 'signature' && e.event !== 'deadline') logLine(e)
    renderPeople()
    renderPhase()
    renderDeadlines()
  }

  const stream = new EventSource(`/events?token=${encodeURIComponent(token)}`)
  stream.onopen = () => { $('#stream').textContent = 'live'; $('#stream').className = 'pill up' }
  stream.onerror = () => { $('#stream').textContent = 'stream closed'; $('#stream').className = 'pill down' }
  stream.onmessage = (m) => {
    try {
      onEvent(JSON.parse(m.data))
    } catch (err) {
      showError(`error INTERNAL: the page could not show an event: ${err}`)
    }
  }
  setInterval(renderDeadlines, 1000) // the countdown only; events are pushed, never polled
})()
