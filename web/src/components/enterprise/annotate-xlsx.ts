// "导出问题表" from the enterprise's own summary sheet: the uploaded .xlsx comes back with every problem cell
// filled red (its style cloned, so number and date formats stay), a note column "问题说明" at the end of each
// problem row and a last worksheet "问题" listing every problem (row, column, cell with a link, value, message).
// Built in the browser: unzip (unzip.ts), edit the XML parts with DOMParser, zip again (zip.ts, stored entries).
// The first worksheet stays first, so the corrected workbook can be uploaded again as it is.
import type { RowProblem } from './problems-export'
import { readZip } from './unzip'
import { buildZip, type ZipEntry } from './zip'

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
const REL = 'http://schemas.openxmlformats.org/officeDocument/2006/relationships'
const PKG_REL = 'http://schemas.openxmlformats.org/package/2006/relationships'
const CONTENT_TYPES = 'http://schemas.openxmlformats.org/package/2006/content-types'
const WORKSHEET_TYPE = `${REL}/worksheet`
const SHARED_STRINGS_TYPE = `${REL}/sharedStrings`
const STYLES_TYPE = `${REL}/styles`
const WORKSHEET_CONTENT = 'application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml'
const XLSX_MIME = 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet'
const DECLARATION = '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'

/** The fill of a problem cell (Excel's light red "差" colour). */
export const PROBLEM_FILL = 'FFFFC7CE'
export const NOTE_TITLE = '问题说明（改正后可删除本列）'
export const PROBLEMS_SHEET = '问题'
/** The server refuses a text cell longer than this on upload (adapters/spreadsheet.py MAX_CELL_CHARS). */
const MAX_NOTE_CHARS = 200

// the API's field names (a corrected applicant) → the sheet's column titles (domain/sheet.py)
const FIELD_COLUMNS: Record<string, string> = {
  name: '姓名', gender: '性别', id_number: '身份证号', mobile: '手机号', education: '学历', employer: '工作单位',
  major: '所学专业', graduated_on: '毕业时间', years_in_post: '岗位工作年限',
}

export class XlsxError extends Error {}

// ------------------------------------------------------------------------------------------ cell references

export function columnLetter(index: number): string {
  let s = ''
  let n = index + 1
  while (n > 0) {
    const m = (n - 1) % 26
    s = String.fromCharCode(65 + m) + s
    n = Math.floor((n - 1) / 26)
  }
  return s
}

export function columnIndex(letters: string): number {
  let n = 0
  for (const ch of letters.toUpperCase()) n = n * 26 + (ch.charCodeAt(0) - 64)
  return n - 1
}

function parseRef(ref: string): { col: number; row: number } | null {
  const m = /^\$?([A-Za-z]{1,3})\$?(\d+)$/.exec(ref)
  return m ? { col: columnIndex(m[1]), row: Number(m[2]) } : null
}

/** How the server names a column: spaces of any kind and the asterisks of required columns aside. */
export function headerKey(text: string): string {
  return text.normalize('NFKC').replace(/\s+/g, '').replace(/^\*+|\*+$/g, '')
}

// ------------------------------------------------------------------------------------------ XML helpers

function parse(text: string, part: string): XMLDocument {
  const doc = new DOMParser().parseFromString(text, 'application/xml')
  if (doc.getElementsByTagName('parsererror').length) throw new XlsxError(`${part} 不是有效的 XML`)
  return doc
}

function serialize(doc: XMLDocument): string {
  const text = new XMLSerializer().serializeToString(doc)
  return text.startsWith('<?xml') ? text : DECLARATION + text
}

function children(el: Element, local: string): Element[] {
  return Array.from(el.children).filter((c) => c.localName === local)
}

function child(el: Element, local: string): Element | undefined {
  return children(el, local)[0]
}

/** A new element in the namespace of `like` with its prefix (a part may write <x:c> instead of <c>). */
function make(doc: XMLDocument, like: Element, local: string, attrs: Record<string, string> = {}): Element {
  const el = doc.createElementNS(like.namespaceURI, like.prefix ? `${like.prefix}:${local}` : local)
  for (const [k, v] of Object.entries(attrs)) el.setAttribute(k, v)
  return el
}

function textOf(el: Element): string {
  // the text runs of a string item, without the phonetic guides (<rPh>)
  let out = ''
  for (const t of Array.from(el.getElementsByTagNameNS(el.namespaceURI, 't'))) {
    if (t.parentElement?.localName !== 'rPh') out += t.textContent ?? ''
  }
  return out
}

function escapeXml(text: string): string {
  return text
    .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
}

// ------------------------------------------------------------------------------------------ the package

class Package {
  entries: ZipEntry[]
  private readonly enc = new TextEncoder()
  private readonly dec = new TextDecoder()

  constructor(entries: ZipEntry[]) {
    this.entries = entries
  }

  has(name: string): boolean {
    return this.entries.some((e) => e.name === name)
  }

  text(name: string): string {
    const entry = this.entries.find((e) => e.name === name)
    if (!entry) throw new XlsxError(`工作簿中缺少 ${name}`)
    return this.dec.decode(entry.data)
  }

  xml(name: string): XMLDocument {
    return parse(this.text(name), name)
  }

  put(name: string, content: string | XMLDocument): void {
    const data = this.enc.encode(typeof content === 'string' ? content : serialize(content))
    const entry = this.entries.find((e) => e.name === name)
    if (entry) entry.data = data
    else this.entries.push({ name, data })
  }
}

/** The target of a relationship, as a part name ("xl/worksheets/sheet1.xml"). */
function resolve(base: string, target: string): string {
  if (target.startsWith('/')) return target.slice(1)
  const parts = base.split('/').slice(0, -1)
  for (const piece of target.split('/')) {
    if (piece === '..') parts.pop()
    else if (piece !== '.') parts.push(piece)
  }
  return parts.join('/')
}

function relsOf(part: string): string {
  const i = part.lastIndexOf('/')
  return `${part.slice(0, i + 1)}_rels/${part.slice(i + 1)}.rels`
}

// ------------------------------------------------------------------------------------------ styles

class Styles {
  readonly doc: XMLDocument
  private readonly root: Element
  private readonly cellXfs: Element
  private readonly fonts: Element
  private redFill = -1
  private readonly clones = new Map<number, number>()
  private note = -1
  private title = -1

  constructor(doc: XMLDocument) {
    this.doc = doc
    this.root = doc.documentElement
    const xfs = child(this.root, 'cellXfs')
    const fonts = child(this.root, 'fonts')
    if (!xfs || !fonts || !children(xfs, 'xf').length || !children(fonts, 'font').length) {
      throw new XlsxError('styles.xml 不完整')
    }
    this.cellXfs = xfs
    this.fonts = fonts
  }

  private add(list: Element, item: Element): number {
    const index = children(list, item.localName).length
    list.appendChild(item)
    list.setAttribute('count', String(index + 1))
    return index
  }

  private fill(): number {
    if (this.redFill >= 0) return this.redFill
    let fills = child(this.root, 'fills')
    if (!fills) {
      fills = make(this.doc, this.root, 'fills', { count: '0' })
      this.root.insertBefore(fills, child(this.root, 'borders') ?? this.cellXfs)
      for (const type of ['none', 'gray125']) {
        const f = make(this.doc, this.root, 'fill')
        f.appendChild(make(this.doc, this.root, 'patternFill', { patternType: type }))
        this.add(fills, f)
      }
    }
    const fill = make(this.doc, this.root, 'fill')
    const pattern = make(this.doc, this.root, 'patternFill', { patternType: 'solid' })
    pattern.appendChild(make(this.doc, this.root, 'fgColor', { rgb: PROBLEM_FILL }))
    pattern.appendChild(make(this.doc, this.root, 'bgColor', { indexed: '64' }))
    fill.appendChild(pattern)
    this.redFill = this.add(fills, fill)
    return this.redFill
  }

  private font(inner: (font: Element) => void): number {
    const font = make(this.doc, this.root, 'font')
    inner(font)
    return this.add(this.fonts, font)
  }

  private xf(source: number): Element {
    const xfs = children(this.cellXfs, 'xf')
    return (xfs[source] ?? xfs[0]).cloneNode(true) as Element
  }

  /** The style of `source` with the red fill (number format, font, borders, alignment kept). */
  highlighted(source: number): number {
    const known = this.clones.get(source)
    if (known !== undefined) return known
    const xf = this.xf(source)
    xf.setAttribute('fillId', String(this.fill()))
    xf.setAttribute('applyFill', '1')
    const index = this.add(this.cellXfs, xf)
    this.clones.set(source, index)
    return index
  }

  /** Dark red text, text format: the notes. */
  noteStyle(): number {
    if (this.note >= 0) return this.note
    const fontId = this.font((f) => {
      f.appendChild(make(this.doc, this.root, 'color', { rgb: 'FF9C0006' }))
      f.appendChild(make(this.doc, this.root, 'sz', { val: '11' }))
    })
    const xf = make(this.doc, this.root, 'xf', {
      numFmtId: '49', fontId: String(fontId), fillId: '0', borderId: '0', xfId: '0', applyNumberFormat: '1', applyFont: '1',
    })
    this.note = this.add(this.cellXfs, xf)
    return this.note
  }

  /** Bold on the red fill: the titles of the notes. */
  titleStyle(): number {
    if (this.title >= 0) return this.title
    const fontId = this.font((f) => {
      f.appendChild(make(this.doc, this.root, 'b'))
      f.appendChild(make(this.doc, this.root, 'sz', { val: '11' }))
    })
    const xf = make(this.doc, this.root, 'xf', {
      numFmtId: '0', fontId: String(fontId), fillId: String(this.fill()), borderId: '0', xfId: '0', applyFont: '1', applyFill: '1',
    })
    this.title = this.add(this.cellXfs, xf)
    return this.title
  }
}

// ------------------------------------------------------------------------------------------ the worksheet

class Sheet {
  readonly doc: XMLDocument
  readonly root: Element
  readonly data: Element
  private readonly rows = new Map<number, Element>()
  private readonly shared: string[]

  constructor(doc: XMLDocument, shared: string[]) {
    this.doc = doc
    this.root = doc.documentElement
    this.shared = shared
    const data = child(this.root, 'sheetData')
    if (!data) throw new XlsxError('工作表中没有 sheetData')
    this.data = data
    // rows and cells may leave out their reference ("the next one"): write every one down
    let previous = 0
    for (const row of children(data, 'row')) {
      const r = Number(row.getAttribute('r')) || previous + 1
      row.setAttribute('r', String(r))
      previous = r
      this.rows.set(r, row)
      let col = -1
      for (const c of children(row, 'c')) {
        const ref = parseRef(c.getAttribute('r') ?? '')
        col = ref ? ref.col : col + 1
        c.setAttribute('r', `${columnLetter(col)}${r}`)
      }
    }
  }

  rowNumbers(): number[] {
    return [...this.rows.keys()].sort((a, b) => a - b)
  }

  cells(r: number): Array<{ col: number; el: Element }> {
    const row = this.rows.get(r)
    if (!row) return []
    return children(row, 'c').map((el) => ({ col: parseRef(el.getAttribute('r') ?? '')?.col ?? 0, el }))
  }

  value(c: Element): string {
    const type = c.getAttribute('t')
    if (type === 'inlineStr') {
      const is = child(c, 'is')
      return is ? textOf(is) : ''
    }
    const v = child(c, 'v')?.textContent ?? ''
    if (type === 's') return this.shared[Number(v)] ?? ''
    return v
  }

  maxColumn(): number {
    let max = -1
    for (const r of this.rows.keys()) for (const { col } of this.cells(r)) max = Math.max(max, col)
    return max
  }

  /** The row (created in its place when the sheet has none). */
  row(r: number): Element {
    const known = this.rows.get(r)
    if (known) return known
    const row = make(this.doc, this.data, 'row', { r: String(r) })
    const after = this.rowNumbers().find((n) => n > r)
    this.data.insertBefore(row, after === undefined ? null : (this.rows.get(after) as Element))
    this.rows.set(r, row)
    return row
  }

  /** The cell (created in its place when the row has none) and the style a created cell inherits. */
  cell(r: number, col: number): { el: Element; style: number } {
    const row = this.row(r)
    row.removeAttribute('spans') // an optional hint that a new cell may contradict
    const cells = this.cells(r)
    const found = cells.find((c) => c.col === col)
    if (found) return { el: found.el, style: Number(found.el.getAttribute('s') ?? 0) || 0 }
    const el = make(this.doc, row, 'c', { r: `${columnLetter(col)}${r}` })
    const next = cells.find((c) => c.col > col)?.el ?? Array.from(row.children).find((c) => c.localName !== 'c') ?? null
    row.insertBefore(el, next)
    return { el, style: this.inheritedStyle(row, col) }
  }

  private inheritedStyle(row: Element, col: number): number {
    if (row.getAttribute('customFormat') === '1' || row.getAttribute('customFormat') === 'true') {
      return Number(row.getAttribute('s') ?? 0) || 0
    }
    const cols = child(this.root, 'cols')
    for (const c of cols ? children(cols, 'col') : []) {
      const min = Number(c.getAttribute('min')) - 1
      const max = Number(c.getAttribute('max')) - 1
      if (col >= min && col <= max) return Number(c.getAttribute('style') ?? 0) || 0
    }
    return 0
  }

  setText(el: Element, text: string, style: number): void {
    while (el.firstChild) el.removeChild(el.firstChild)
    el.removeAttribute('t')
    el.setAttribute('t', 'inlineStr')
    el.setAttribute('s', String(style))
    const is = make(this.doc, el, 'is')
    const t = make(this.doc, el, 't')
    t.setAttributeNS('http://www.w3.org/XML/1998/namespace', 'xml:space', 'preserve')
    t.textContent = text.replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, '')
    is.appendChild(t)
    el.appendChild(is)
  }

  /** A column's width (a <col> of its own, unless a range already covers it). */
  widen(col: number, width: number): void {
    let cols = child(this.root, 'cols')
    if (!cols) {
      cols = make(this.doc, this.root, 'cols')
      this.root.insertBefore(cols, this.data)
    }
    const list = children(cols, 'col')
    if (list.some((c) => col + 1 >= Number(c.getAttribute('min')) && col + 1 <= Number(c.getAttribute('max')))) return
    const el = make(this.doc, cols, 'col', { min: String(col + 1), max: String(col + 1), width: String(width), customWidth: '1' })
    cols.insertBefore(el, list.find((c) => Number(c.getAttribute('min')) > col + 1) ?? null)
  }

  /** The used range: widened to the cells written here. */
  fitDimension(): void {
    const dimension = child(this.root, 'dimension')
    if (!dimension) return
    const rows = this.rowNumbers()
    const last = `${columnLetter(Math.max(0, this.maxColumn()))}${rows.length ? rows[rows.length - 1] : 1}`
    const first = (dimension.getAttribute('ref') ?? 'A1').split(':')[0]
    dimension.setAttribute('ref', `${parseRef(first) ? first : 'A1'}:${last}`)
  }
}

/** The header row as the server finds it (adapters/spreadsheet.py read_sheet): the first non-empty row,
 *  unless it holds a single cell (a title) and the next non-empty row holds two or more. */
export function findHeaderRow(sheet: { rowNumbers(): number[]; filled(r: number): number }): number {
  const rows = sheet.rowNumbers().filter((r) => sheet.filled(r) > 0)
  if (!rows.length) return 1
  if (sheet.filled(rows[0]) >= 2 || rows.length === 1) return rows[0]
  return sheet.filled(rows[1]) >= 2 ? rows[1] : rows[0]
}

// ------------------------------------------------------------------------------------------ annotate

export interface Annotated {
  blob: Blob
  /** problems whose cell was highlighted */
  marked: number
  /** the header row's number, as found */
  headerRow: number
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'string' ? v : JSON.stringify(v)
}

/**
 * The enterprise's workbook with the problems marked. Throws (XlsxError, ZipError, …) when the file cannot be
 * read as an .xlsx: the caller then falls back to the separate problems workbook.
 */
export async function annotateWorkbook(input: Blob | ArrayBuffer | Uint8Array, problems: RowProblem[]): Promise<Annotated> {
  const bytes = input instanceof Uint8Array ? input : input instanceof ArrayBuffer ? new Uint8Array(input) : new Uint8Array(await input.arrayBuffer())
  const pkg = new Package(await readZip(bytes))

  // the first worksheet, the shared strings and the styles, through the workbook's relationships
  const workbookPart = 'xl/workbook.xml'
  const workbook = pkg.xml(workbookPart)
  const sheetsEl = child(workbook.documentElement, 'sheets')
  const firstSheet = sheetsEl ? child(sheetsEl, 'sheet') : undefined
  if (!sheetsEl || !firstSheet) throw new XlsxError('工作簿中没有工作表')
  const relsPart = relsOf(workbookPart)
  const rels = pkg.xml(relsPart)
  const relList = Array.from(rels.documentElement.children).filter((e) => e.localName === 'Relationship')
  const target = (pred: (rel: Element) => boolean) => {
    const rel = relList.find(pred)
    return rel ? resolve(workbookPart, rel.getAttribute('Target') ?? '') : undefined
  }
  const firstId = firstSheet.getAttributeNS(REL, 'id') || firstSheet.getAttribute('r:id')
  const sheetPart = target((r) => r.getAttribute('Id') === firstId)
  if (!sheetPart || !pkg.has(sheetPart)) throw new XlsxError('找不到第一个工作表')
  const stylesPart = target((r) => r.getAttribute('Type') === STYLES_TYPE) ?? 'xl/styles.xml'
  if (!pkg.has(stylesPart)) throw new XlsxError('工作簿中没有样式表（styles.xml）')
  const sharedPart = target((r) => r.getAttribute('Type') === SHARED_STRINGS_TYPE)
  const shared =
    sharedPart && pkg.has(sharedPart) ? children(pkg.xml(sharedPart).documentElement, 'si').map(textOf) : []

  const sheet = new Sheet(pkg.xml(sheetPart), shared)
  const styles = new Styles(pkg.xml(stylesPart))

  // the header: column title → letter (the first one; a duplicate is reported on its second occurrence)
  const filled = (r: number) => sheet.cells(r).filter(({ el }) => sheet.value(el).trim() !== '').length
  const headerRow = findHeaderRow({ rowNumbers: () => sheet.rowNumbers(), filled })
  const headerCells = sheet.cells(headerRow).map(({ col, el }) => ({ col, key: headerKey(sheet.value(el)), text: sheet.value(el) }))
  const byTitle = new Map<string, number>()
  for (const h of headerCells) if (h.key && !byTitle.has(h.key)) byTitle.set(h.key, h.col)

  const columnOf = (p: RowProblem): number | undefined => {
    const title = headerKey(p.column || (p.field ? FIELD_COLUMNS[p.field] ?? p.field : ''))
    if (p.row === headerRow) {
      if (p.code === 'duplicate_column') return headerCells.filter((h) => h.key === title)[1]?.col
      if (p.code === 'misspelt_column') {
        const shown = headerKey(valueText(p.value))
        return headerCells.find((h) => h.key === shown)?.col
      }
      if (p.code === 'missing_column') return undefined
    }
    return title ? byTitle.get(title) : undefined
  }

  // highlight every problem cell; the notes of each data row
  const located = problems.map((p) => ({ p, col: p.row ? columnOf(p) : undefined }))
  const noteCol = sheet.maxColumn() + 1
  let marked = 0
  const notes = new Map<number, string[]>()
  for (const { p, col } of located) {
    if (!p.row) continue
    if (col !== undefined) {
      const { el, style } = sheet.cell(p.row, col)
      el.setAttribute('s', String(styles.highlighted(style)))
      marked += 1
    }
    if (p.row !== headerRow) {
      const text = p.message.replace(new RegExp(`^第 ?${p.row} ?行[：:，, ]?`), '')
      notes.set(p.row, [...(notes.get(p.row) ?? []), text])
    }
  }
  if (notes.size) {
    sheet.setText(sheet.cell(headerRow, noteCol).el, NOTE_TITLE, styles.titleStyle())
    for (const [r, texts] of notes) {
      let text = texts.join('；')
      if (text.length > MAX_NOTE_CHARS) text = `${text.slice(0, MAX_NOTE_CHARS - 12)}…（详见“${PROBLEMS_SHEET}”表）`
      sheet.setText(sheet.cell(r, noteCol).el, text, styles.noteStyle())
    }
    sheet.widen(noteCol, 60)
  }
  sheet.fitDimension()
  pkg.put(sheetPart, sheet.doc)

  // the last worksheet "问题": every problem, with a link to its cell
  const names = new Set(children(sheetsEl, 'sheet').map((s) => s.getAttribute('name') ?? ''))
  let listName = PROBLEMS_SHEET
  for (let n = 2; names.has(listName); n++) listName = `${PROBLEMS_SHEET}${n}`
  const firstName = firstSheet.getAttribute('name') ?? 'Sheet1'
  const head = styles.titleStyle()
  const rowsXml: string[] = []
  const links: string[] = []
  const cellXml = (ref: string, text: string, s = 0) =>
    `<c r="${ref}" t="inlineStr" s="${s}"><is><t xml:space="preserve">${escapeXml(text)}</t></is></c>`
  rowsXml.push(
    `<row r="1">${['行号', '列', '单元格', '填写的值', '问题说明'].map((t, i) => cellXml(`${columnLetter(i)}1`, t, head)).join('')}</row>`,
  )
  located.forEach(({ p, col }, i) => {
    const r = i + 2
    const ref = p.row && col !== undefined ? `${columnLetter(col)}${p.row}` : ''
    const rowCell = p.row ? `<c r="A${r}"><v>${p.row}</v></c>` : ''
    rowsXml.push(
      `<row r="${r}">${rowCell}${cellXml(`B${r}`, p.column || (p.field ? FIELD_COLUMNS[p.field] ?? p.field : ''))}${cellXml(`C${r}`, ref)}${cellXml(`D${r}`, valueText(p.value))}${cellXml(`E${r}`, p.message)}</row>`,
    )
    if (ref) links.push(`<hyperlink ref="C${r}" location="${escapeXml(`'${firstName.replace(/'/g, "''")}'!${ref}`)}" display="${ref}"/>`)
  })
  const listXml =
    DECLARATION +
    `<worksheet xmlns="${MAIN}" xmlns:r="${REL}"><sheetViews><sheetView workbookViewId="0"><pane ySplit="1" topLeftCell="A2" activePane="bottomLeft" state="frozen"/></sheetView></sheetViews>` +
    `<cols><col min="1" max="1" width="8" customWidth="1"/><col min="2" max="2" width="14" customWidth="1"/><col min="3" max="3" width="8" customWidth="1"/><col min="4" max="4" width="24" customWidth="1"/><col min="5" max="5" width="90" customWidth="1"/></cols>` +
    `<sheetData>${rowsXml.join('')}</sheetData>${links.length ? `<hyperlinks>${links.join('')}</hyperlinks>` : ''}</worksheet>`
  let k = 1
  while (pkg.has(`xl/worksheets/sheet${k}.xml`)) k++
  const listPart = `xl/worksheets/sheet${k}.xml`
  pkg.put(listPart, listXml)
  const ids = new Set(relList.map((r) => r.getAttribute('Id')))
  let rid = relList.length + 1
  while (ids.has(`rId${rid}`)) rid++
  const rel = rels.createElementNS(PKG_REL, 'Relationship')
  rel.setAttribute('Id', `rId${rid}`)
  rel.setAttribute('Type', WORKSHEET_TYPE)
  rel.setAttribute('Target', `/${listPart}`)
  rels.documentElement.appendChild(rel)
  pkg.put(relsPart, rels)
  const sheetIds = children(sheetsEl, 'sheet').map((s) => Number(s.getAttribute('sheetId')) || 0)
  const entry = make(workbook, sheetsEl, 'sheet', { name: listName, sheetId: String(Math.max(0, ...sheetIds) + 1) })
  const idAttr = Array.from(firstSheet.attributes).find((a) => a.namespaceURI === REL && a.localName === 'id')
  entry.setAttributeNS(REL, `${idAttr?.prefix ?? 'r'}:id`, `rId${rid}`)
  sheetsEl.appendChild(entry)
  pkg.put(workbookPart, workbook)
  const types = pkg.xml('[Content_Types].xml')
  const override = types.createElementNS(CONTENT_TYPES, 'Override')
  override.setAttribute('PartName', `/${listPart}`)
  override.setAttribute('ContentType', WORKSHEET_CONTENT)
  types.documentElement.appendChild(override)
  pkg.put('[Content_Types].xml', types)

  pkg.put(stylesPart, styles.doc)
  const blob = buildZip(pkg.entries)
  return { blob: new Blob([blob], { type: XLSX_MIME }), marked, headerRow }
}

// ------------------------------------------------------------------------------------------ "导出问题表"

export interface ProblemsExport {
  blob: Blob
  filename: string
  /** why the separate problems workbook was made instead of the annotated upload (Chinese), or '' */
  fallback: string
}

/**
 * What "导出问题表" saves: the uploaded summary sheet with the problems marked when it can be read, else the
 * separate problems workbook (an .xls, a damaged file, no file at hand) with the reason why.
 */
export async function problemsExport(
  problems: RowProblem[],
  source: Blob | null | undefined,
  base: string,
  separate: (problems: RowProblem[]) => Blob,
): Promise<ProblemsExport> {
  const name = base.replace(/\.(xlsx|xlsm|xls|csv|zip)$/i, '')
  if (source) {
    try {
      const { blob } = await annotateWorkbook(source, problems)
      return { blob, filename: `${name}-问题标注.xlsx`, fallback: '' }
    } catch {
      return {
        blob: separate(problems),
        filename: `${name}-问题表.xlsx`,
        fallback: '无法读取上传的汇总表（可能是 .xls 格式或文件已损坏），已改为导出单独的问题表',
      }
    }
  }
  return { blob: separate(problems), filename: `${name}-问题表.xlsx`, fallback: '' }
}
