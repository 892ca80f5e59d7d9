// The enterprise's own summary sheet, annotated: a workbook made by the enrollment service's template code
// (openpyxl, see __fixtures__/README.md) with the problems its validation reported, marked in the browser.
import { readFileSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import { annotateWorkbook, problemsExport, columnIndex, columnLetter, findHeaderRow, headerKey, NOTE_TITLE, PROBLEM_FILL } from './annotate-xlsx'
import { problemsXlsx, type RowProblem } from './problems-export'
import { readZip } from './unzip'
import { buildZip } from './zip'

const MAIN = 'http://schemas.openxmlformats.org/spreadsheetml/2006/main'
const HERE = typeof __dirname === 'string' ? __dirname : dirname(fileURLToPath(import.meta.url))
const fixture = (name: string) => new Uint8Array(readFileSync(join(HERE, '__fixtures__', name)))
const SHEET = fixture('summary-with-problems.xlsx')
const PROBLEMS = JSON.parse(new TextDecoder().decode(fixture('summary-with-problems.problems.json'))) as RowProblem[]

async function parts(blob: Blob): Promise<Map<string, string>> {
  const entries = await readZip(new Uint8Array(await blob.arrayBuffer()))
  return new Map(entries.map((e) => [e.name, new TextDecoder().decode(e.data)]))
}

function xml(text: string): XMLDocument {
  const doc = new DOMParser().parseFromString(text, 'application/xml')
  expect(doc.getElementsByTagName('parsererror').length, text.slice(0, 300)).toBe(0)
  return doc
}

const indexes = new WeakMap<XMLDocument, Map<string, Element>>()
function cell(doc: XMLDocument, ref: string): Element | undefined {
  let index = indexes.get(doc)
  if (!index) {
    index = new Map(Array.from(doc.getElementsByTagNameNS(MAIN, 'c')).map((c) => [c.getAttribute('r') ?? '', c]))
    indexes.set(doc, index)
  }
  return index.get(ref)
}

function cellText(doc: XMLDocument, ref: string): string {
  const c = cell(doc, ref)
  return c ? Array.from(c.getElementsByTagNameNS(MAIN, 't')).map((t) => t.textContent).join('') : ''
}

/** The xf of a cell and the fill and number format it says. */
function styleOf(styles: XMLDocument, c: Element | undefined): { fill: string; numFmtId: string } {
  const xfs = Array.from(styles.getElementsByTagNameNS(MAIN, 'cellXfs')[0].getElementsByTagNameNS(MAIN, 'xf'))
  const xf = xfs[Number(c?.getAttribute('s') ?? 0)]
  const fills = Array.from(styles.getElementsByTagNameNS(MAIN, 'fills')[0].getElementsByTagNameNS(MAIN, 'fill'))
  const fill = fills[Number(xf.getAttribute('fillId') ?? 0)]
  return { fill: fill.getElementsByTagNameNS(MAIN, 'fgColor')[0]?.getAttribute('rgb') ?? '', numFmtId: xf.getAttribute('numFmtId') ?? '0' }
}

// jsdom's DOM is slow on a 1,000-row sheet (a second in Chromium is ten here on a busy machine)
const SLOW = 60_000

describe('annotateWorkbook', () => {
  it('highlights every problem cell of the uploaded template, keeping formats, with notes and a problem list', async () => {
    expect(PROBLEMS.length).toBeGreaterThan(8)
    const result = await annotateWorkbook(SHEET, PROBLEMS)
    expect(result.headerRow).toBe(1)
    expect(result.marked).toBe(PROBLEMS.length)
    const out = await parts(result.blob)
    const before = await parts(new Blob([SHEET]))
    // every part is kept; one worksheet more
    for (const name of before.keys()) expect(out.has(name), name).toBe(true)
    const sheet = xml(out.get('xl/worksheets/sheet1.xml') as string)
    const styles = xml(out.get('xl/styles.xml') as string)
    const original = xml(before.get('xl/worksheets/sheet1.xml') as string)
    const originalStyles = xml(before.get('xl/styles.xml') as string)

    // 学历 “初中” in E3; the future graduation date in H3 keeps its date format (yyyy-mm-dd)
    expect(styleOf(styles, cell(sheet, 'E3')).fill).toBe(PROBLEM_FILL)
    expect(cellText(sheet, 'E3')).toBe('初中')
    const h3 = styleOf(styles, cell(sheet, 'H3'))
    expect(h3.fill).toBe(PROBLEM_FILL)
    expect(h3.numFmtId).toBe(styleOf(originalStyles, cell(original, 'H3')).numFmtId)
    expect(h3.numFmtId).not.toBe('0')
    expect(cell(sheet, 'H3')?.getElementsByTagNameNS(MAIN, 'v')[0].textContent).toBe('72866')
    // the mobile number in D4 keeps the text format (@ = 49) of the template's column
    expect(styleOf(styles, cell(sheet, 'D4'))).toEqual({ fill: PROBLEM_FILL, numFmtId: '49' })
    // 性别 left empty: no B4 in the upload; created between A4 and C4
    expect(cell(original, 'B4')).toBeUndefined()
    const b4 = cell(sheet, 'B4') as Element
    expect(styleOf(styles, b4).fill).toBe(PROBLEM_FILL)
    expect(b4.previousElementSibling?.getAttribute('r')).toBe('A4')
    expect(b4.nextElementSibling?.getAttribute('r')).toBe('C4')
    // the ID number stored as a number (C5), the abbreviated employer (F5), the years (I5)
    for (const ref of ['C5', 'F5', 'I5']) expect(styleOf(styles, cell(sheet, ref)).fill, ref).toBe(PROBLEM_FILL)
    // row 1205 (below the template's rows): only 姓名 was there; the five required cells are created in order
    const row1205 = Array.from(sheet.getElementsByTagNameNS(MAIN, 'row')).find((r) => r.getAttribute('r') === '1205') as Element
    expect(Array.from(row1205.children).map((c) => c.getAttribute('r'))).toEqual(['A1205', 'B1205', 'C1205', 'D1205', 'E1205', 'F1205', 'J1205'])
    expect(styleOf(styles, cell(sheet, 'A1205')).fill).not.toBe(PROBLEM_FILL)
    // cells without a problem keep their style
    for (const ref of ['A2', 'C2', 'E2', 'A3']) expect(cell(sheet, ref)?.getAttribute('s') ?? '0', ref).toBe(cell(original, ref)?.getAttribute('s') ?? '0')
    // the note column J: a title in the header row and each row's problems without "第 N 行"
    expect(cellText(sheet, 'J1')).toBe(NOTE_TITLE)
    expect(cellText(sheet, 'J3')).toContain('“学历”“初中”不在可选范围内')
    expect(cellText(sheet, 'J3')).toContain('毕业时间')
    expect(cellText(sheet, 'J3')).not.toMatch(/^第 3 行/)
    expect(cellText(sheet, 'J2')).toBe('')
    for (const r of [3, 4, 5, 1205]) expect(cellText(sheet, `J${r}`).length).toBeLessThanOrEqual(200)
    expect(sheet.getElementsByTagNameNS(MAIN, 'dimension')[0].getAttribute('ref')).toBe('A1:J1205')
    // every cellXfs count is right, the new fill is solid red
    const xfs = styles.getElementsByTagNameNS(MAIN, 'cellXfs')[0]
    expect(Number(xfs.getAttribute('count'))).toBe(xfs.getElementsByTagNameNS(MAIN, 'xf').length)
    const fills = styles.getElementsByTagNameNS(MAIN, 'fills')[0]
    expect(Number(fills.getAttribute('count'))).toBe(fills.getElementsByTagNameNS(MAIN, 'fill').length)

    // the workbook: the template's two sheets, then "问题"; its part, relationship and content type
    const workbook = xml(out.get('xl/workbook.xml') as string)
    const sheets = Array.from(workbook.getElementsByTagNameNS(MAIN, 'sheet'))
    expect(sheets.map((s) => s.getAttribute('name'))).toEqual(['报名人员信息汇总表', '填写说明', '问题'])
    const rid = sheets[2].getAttributeNS('http://schemas.openxmlformats.org/officeDocument/2006/relationships', 'id')
    const rels = xml(out.get('xl/_rels/workbook.xml.rels') as string)
    const rel = Array.from(rels.documentElement.children).find((r) => r.getAttribute('Id') === rid) as Element
    expect(rel.getAttribute('Target')).toBe('/xl/worksheets/sheet3.xml')
    expect(out.get('[Content_Types].xml')).toContain('PartName="/xl/worksheets/sheet3.xml"')
    const list = xml(out.get('xl/worksheets/sheet3.xml') as string)
    expect(Array.from(list.getElementsByTagNameNS(MAIN, 'row'))).toHaveLength(PROBLEMS.length + 1)
    expect(cellText(list, 'E1')).toBe('问题说明')
    const e3 = PROBLEMS.findIndex((p) => p.row === 3 && p.column === '学历') + 2
    expect(cellText(list, `C${e3}`)).toBe('E3')
    expect(cellText(list, `D${e3}`)).toBe('初中')
    expect(list.getElementsByTagNameNS(MAIN, 'hyperlink')[0].getAttribute('location')).toMatch(/^'报名人员信息汇总表'!/)
  }, SLOW)

  it('reads shared strings, a title row above the header and a header problem', async () => {
    const enc = new TextEncoder()
    const strings = ['报名人员信息汇总表', '姓名', '性 别', '身份证号', '学厉', '张三', '男', '110101199003070011']
    const si = strings.map((s, i) => (i === 2 ? `<si><r><t>性</t></r><r><t xml:space="preserve"> 别</t></r></si>` : `<si><t>${s}</t></si>`)).join('')
    const files: Record<string, string> = {
      '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/data.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>`,
      '_rels/.rels': `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
      'xl/workbook.xml': `<?xml version="1.0"?><x:workbook xmlns:x="${MAIN}" xmlns:rel="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><x:sheets><x:sheet name="汇总" sheetId="7" rel:id="rIdA"/></x:sheets></x:workbook>`,
      'xl/_rels/workbook.xml.rels': `<?xml version="1.0"?><Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rIdA" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/data.xml"/><Relationship Id="rIdS" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/sharedStrings" Target="strings.xml"/><Relationship Id="rIdT" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
      'xl/strings.xml': `<?xml version="1.0"?><sst xmlns="${MAIN}" count="8" uniqueCount="8">${si}</sst>`,
      'xl/styles.xml': `<?xml version="1.0"?><styleSheet xmlns="${MAIN}"><fonts count="1"><font><sz val="11"/></font></fonts><borders count="1"><border/></borders><cellXfs count="2"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/><xf numFmtId="49" fontId="0" fillId="0" borderId="0" applyNumberFormat="1"/></cellXfs></styleSheet>`,
      // a title row, then the header (no r on the cells), a data row with a row style (customFormat)
      'xl/worksheets/data.xml': `<?xml version="1.0"?><x:worksheet xmlns:x="${MAIN}"><x:sheetData><x:row r="1"><x:c r="A1" t="s"><x:v>0</x:v></x:c></x:row><x:row r="2" spans="1:4"><x:c t="s"><x:v>1</x:v></x:c><x:c t="s"><x:v>2</x:v></x:c><x:c t="s"><x:v>3</x:v></x:c><x:c t="s"><x:v>4</x:v></x:c></x:row><x:row r="3" s="1" customFormat="1"><x:c r="A3" t="s"><x:v>5</x:v></x:c><x:c r="D3"/></x:row></x:sheetData></x:worksheet>`,
    }
    const source = buildZip(Object.entries(files).map(([name, text]) => ({ name, data: enc.encode(text) })))
    const problems: RowProblem[] = [
      { row: 2, column: '学历', value: '学厉', code: 'misspelt_column', message: '第 2 行 D 列表头“学厉”应为“学历”' },
      { row: 2, column: '手机号', value: '', code: 'missing_column', message: '第 2 行表头缺少必填列“手机号”' },
      { row: 3, column: '身份证号', value: '', code: 'required', message: '第 3 行“身份证号”为空，该列必须填写' },
      { row: 3, field: 'gender', code: 'required', message: '第 3 行“性别”为空' },
    ]
    const result = await annotateWorkbook(source, problems)
    expect(result.headerRow).toBe(2)
    expect(result.marked).toBe(3)
    const out = await parts(result.blob)
    const sheet = xml(out.get('xl/worksheets/data.xml') as string)
    const styles = xml(out.get('xl/styles.xml') as string)
    expect(sheet.documentElement.prefix).toBe('x')
    expect(styleOf(styles, cell(sheet, 'D2')).fill).toBe(PROBLEM_FILL)
    // C3 created with the row's style (text), B3 too ("性 别" read from rich text runs)
    expect(styleOf(styles, cell(sheet, 'C3'))).toEqual({ fill: PROBLEM_FILL, numFmtId: '49' })
    expect(styleOf(styles, cell(sheet, 'B3')).fill).toBe(PROBLEM_FILL)
    expect(Array.from(sheet.getElementsByTagNameNS(MAIN, 'row'))[2].getAttribute('customFormat')).toBe('1')
    expect(Array.from(Array.from(sheet.getElementsByTagNameNS(MAIN, 'row'))[2].children).map((c) => c.getAttribute('r'))).toEqual(['A3', 'B3', 'C3', 'D3', 'E3'])
    expect(cellText(sheet, 'E2')).toBe(NOTE_TITLE)
    expect(cellText(sheet, 'E3')).toBe('“身份证号”为空，该列必须填写；“性别”为空')
    expect(cell(sheet, 'E3')?.namespaceURI).toBe(MAIN)
    // the workbook keeps its prefixes; the new sheet gets a fresh sheetId and relationship
    const workbook = xml(out.get('xl/workbook.xml') as string)
    const added = Array.from(workbook.getElementsByTagNameNS(MAIN, 'sheet'))[1]
    expect(added.getAttribute('name')).toBe('问题')
    expect(added.getAttribute('sheetId')).toBe('8')
    expect(added.getAttributeNS('http://schemas.openxmlformats.org/officeDocument/2006/relationships', 'id')).toMatch(/^rId\d+$/)
    expect(out.has('xl/worksheets/sheet1.xml')).toBe(true)
    // the fills list was missing: made with the two reserved fills first
    const fills = Array.from(styles.getElementsByTagNameNS(MAIN, 'fill'))
    expect(fills).toHaveLength(3)
  }, SLOW)

  it('refuses what is not an .xlsx (the caller falls back to the separate problems workbook)', async () => {
    await expect(annotateWorkbook(new TextEncoder().encode('not a zip at all, an old .xls perhaps'), [])).rejects.toThrow()
    const zip = buildZip([{ name: 'a.txt', data: new TextEncoder().encode('x') }])
    await expect(annotateWorkbook(zip, [])).rejects.toThrow(/workbook\.xml/)
  })

  it('names columns like the server', () => {
    expect(columnLetter(0)).toBe('A')
    expect(columnLetter(26)).toBe('AA')
    expect(columnIndex('AA')).toBe(26)
    expect(headerKey(' *手机号 ')).toBe('手机号')
    expect(headerKey('姓\u3000名')).toBe('姓名')
    const rows: Record<number, number> = { 1: 1, 3: 9 }
    expect(findHeaderRow({ rowNumbers: () => [1, 3], filled: (r) => rows[r] })).toBe(3)
    expect(findHeaderRow({ rowNumbers: () => [2, 3], filled: (r) => (r === 2 ? 5 : 5) })).toBe(2)
  })
})

describe('problemsExport ("导出问题表")', () => {
  it('gives the uploaded sheet annotated, or the separate problems workbook with the reason in Chinese', async () => {
    const annotated = await problemsExport(PROBLEMS, new Blob([SHEET]), '汇总表.xlsx', problemsXlsx)
    expect(annotated.filename).toBe('汇总表-问题标注.xlsx')
    expect(annotated.fallback).toBe('')
    expect((await parts(annotated.blob)).has('xl/worksheets/sheet3.xml')).toBe(true)

    const old = await problemsExport(PROBLEMS, new Blob(['\xd0\xcf\x11\xe0 an old .xls']), '汇总表.xls', problemsXlsx)
    expect(old.filename).toBe('汇总表-问题表.xlsx')
    expect(old.fallback).toContain('.xls')
    const list = xml((await parts(old.blob)).get('xl/worksheets/sheet1.xml') as string)
    expect(Array.from(list.getElementsByTagNameNS(MAIN, 'row'))).toHaveLength(PROBLEMS.length + 1)

    const none = await problemsExport(PROBLEMS, null, 'materials.zip', problemsXlsx)
    expect(none).toMatchObject({ filename: 'materials-问题表.xlsx', fallback: '' })
  }, SLOW)
})
