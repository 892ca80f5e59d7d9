// The problems of a refused upload as a separate .xlsx workbook built in the browser (the value cells
// highlighted), and as CSV: what "导出问题表" gives when the uploaded sheet itself cannot be annotated
// (annotate-xlsx.ts) — an .xls, a damaged file, a materials zip.
import { buildZip } from './zip'

export interface RowProblem {
  row?: number
  column?: string
  field?: string
  value?: unknown
  code: string
  message: string
}

const HEADER = ['行号', '列', '填写的值', '问题代码', '问题说明']

function esc(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;')
}

function colName(i: number): string {
  let s = ''
  let n = i + 1
  while (n > 0) {
    const m = (n - 1) % 26
    s = String.fromCharCode(65 + m) + s
    n = Math.floor((n - 1) / 26)
  }
  return s
}

function valueText(v: unknown): string {
  if (v === null || v === undefined) return ''
  return typeof v === 'string' ? v : JSON.stringify(v)
}

export function problemRows(problems: RowProblem[]): string[][] {
  return problems.map((p) => [
    p.row === undefined ? '' : String(p.row),
    p.column ?? p.field ?? '',
    valueText(p.value),
    p.code,
    p.message,
  ])
}

/** The workbook of the problems: a header row (bold), one row per problem, the value cell highlighted. */
export function problemsXlsx(problems: RowProblem[]): Blob {
  return buildXlsx([HEADER, ...problemRows(problems)], '问题表', (r, c) => (r === 0 ? 1 : c === 2 ? 2 : 0), [8, 14, 24, 22, 70])
}

/**
 * A one-sheet .xlsx of text cells. `style(r, c)`: 0 plain, 1 bold, 2 highlighted (red fill). Built here so
 * that no spreadsheet package is needed (the tests use it to make summary sheets too).
 */
export function buildXlsx(
  rows: string[][],
  sheetName = 'Sheet1',
  style: (r: number, c: number) => number = () => 0,
  widths: number[] = [],
): Blob {
  const sheetRows = rows
    .map((cells, r) => {
      const xml = cells
        .map((text, c) => `<c r="${colName(c)}${r + 1}" t="inlineStr" s="${style(r, c)}"><is><t xml:space="preserve">${esc(text)}</t></is></c>`)
        .join('')
      return `<row r="${r + 1}">${xml}</row>`
    })
    .join('')
  const cols = widths.length
    ? `<cols>${widths.map((w, i) => `<col min="${i + 1}" max="${i + 1}" width="${w}" customWidth="1"/>`).join('')}</cols>`
    : ''
  const sheet = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main">${cols}<sheetData>${sheetRows}</sheetData></worksheet>`
  const styles = `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<styleSheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><fonts count="2"><font><sz val="11"/><name val="宋体"/></font><font><b/><sz val="11"/><name val="宋体"/></font></fonts><fills count="3"><fill><patternFill patternType="none"/></fill><fill><patternFill patternType="gray125"/></fill><fill><patternFill patternType="solid"><fgColor rgb="FFFFC7CE"/><bgColor indexed="64"/></patternFill></fill></fills><borders count="1"><border><left/><right/><top/><bottom/><diagonal/></border></borders><cellStyleXfs count="1"><xf numFmtId="0" fontId="0" fillId="0" borderId="0"/></cellStyleXfs><cellXfs count="3"><xf numFmtId="0" fontId="0" fillId="0" borderId="0" xfId="0"/><xf numFmtId="0" fontId="1" fillId="0" borderId="0" xfId="0" applyFont="1"/><xf numFmtId="0" fontId="0" fillId="2" borderId="0" xfId="0" applyFill="1"/></cellXfs><cellStyles count="1"><cellStyle name="Normal" xfId="0" builtinId="0"/></cellStyles></styleSheet>`
  const enc = new TextEncoder()
  const parts: Record<string, string> = {
    '[Content_Types].xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/><Default Extension="xml" ContentType="application/xml"/><Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet.main+xml"/><Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.worksheet+xml"/><Override PartName="/xl/styles.xml" ContentType="application/vnd.openxmlformats-officedocument.spreadsheetml.styles+xml"/></Types>`,
    '_rels/.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>`,
    'xl/workbook.xml': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships"><sheets><sheet name="${esc(sheetName)}" sheetId="1" r:id="rId1"/></sheets></workbook>`,
    'xl/_rels/workbook.xml.rels': `<?xml version="1.0" encoding="UTF-8" standalone="yes"?>
<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships"><Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/worksheet" Target="worksheets/sheet1.xml"/><Relationship Id="rId2" Type="http://schemas.openxmlformats.org/officeDocument/2006/relationships/styles" Target="styles.xml"/></Relationships>`,
    'xl/styles.xml': styles,
    'xl/worksheets/sheet1.xml': sheet,
  }
  const blob = buildZip(Object.entries(parts).map(([name, text]) => ({ name, data: enc.encode(text) })))
  return new Blob([blob], { type: 'application/vnd.openxmlformats-officedocument.spreadsheetml.sheet' })
}

export function problemsCsv(problems: RowProblem[]): Blob {
  const cell = (t: string) => (/[",\n]/.test(t) ? `"${t.replace(/"/g, '""')}"` : t)
  const text = [HEADER, ...problemRows(problems)].map((r) => r.map(cell).join(',')).join('\r\n')
  return new Blob(['\ufeff' + text], { type: 'text/csv;charset=utf-8' })
}

export function saveBlob(blob: Blob, filename: string): void {
  const url = URL.createObjectURL(blob)
  const a = document.createElement('a')
  a.href = url
  a.download = filename
  document.body.appendChild(a)
  a.click()
  a.remove()
  setTimeout(() => URL.revokeObjectURL(url), 1000)
}
