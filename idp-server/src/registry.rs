//! The registry import: residents and businesses from the national registers'
//! exports, CSV or JSON Lines, every row validated by `identity-core` before it
//! reaches the store. A bad row is reported with its line number and skipped;
//! the good rows go in one transaction; importing the same file again changes
//! nothing.
//!
//! CSV: a header row names the columns, in any order.
//! - residents: `personal_number,full_name[,birth_date]` (birth date `YYYY-MM-DD`,
//!   which must agree with the number's century and year);
//! - businesses: `enterprise_code,registered_name,legal_representatives` (the
//!   representatives' personal numbers, separated by `;` or spaces);
//! - officials: `personal_number,agency,position` (the civil service register:
//!   residents who sign for an agency).
//!
//! JSON Lines: one object a line, `"type": "resident"` with `personal_number`,
//! `full_name` and optionally `birth_date`, `"type": "business"` with
//! `enterprise_code`, `registered_name` and `legal_representatives` (an array),
//! or `"type": "official"` with `personal_number`, `agency` and `position`.
//! Blank lines are skipped.
//!
//! A business's representatives and the officials must be residents, of the
//! registry or of the same import.

use identity_core::{Business, CalendarDate, Citizen, PersonalNumber};

/// One validated row.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Record {
    /// A resident.
    Resident(Citizen),
    /// A business and its legal representatives.
    Business(Business),
    /// A resident who signs for an agency.
    Official {
        /// The resident.
        personal_number: PersonalNumber,
        /// The agency they sign for.
        agency: String,
        /// Their position there.
        position: String,
    },
}

/// A row that was not imported, and why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Rejected {
    /// Its line in the file (1 is the first line; a CSV header is line 1).
    pub line: u64,
    /// What was wrong.
    pub reason: String,
}

/// A file read: the rows that passed, each with its line, and those that did not.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Parsed {
    /// Valid rows, in file order.
    pub records: Vec<(u64, Record)>,
    /// Rows refused.
    pub rejected: Vec<Rejected>,
}

/// The layout of an export.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Format {
    /// Comma-separated values with a header row.
    Csv,
    /// One JSON object a line.
    JsonLines,
}

impl Format {
    /// The format a file's name says: `.csv`, or `.jsonl` / `.ndjson`.
    pub fn from_path(path: &std::path::Path) -> Option<Self> {
        match path.extension()?.to_str()?.to_ascii_lowercase().as_str() {
            "csv" => Some(Self::Csv),
            "jsonl" | "ndjson" => Some(Self::JsonLines),
            _ => None,
        }
    }
}

/// Reads an export. An error is a problem with the whole file (an unknown CSV
/// header); problems with rows are in [`Parsed::rejected`].
pub fn parse(bytes: &[u8], format: Format) -> Result<Parsed, String> {
    match format {
        Format::Csv => parse_csv(bytes),
        Format::JsonLines => Ok(parse_json_lines(bytes)),
    }
}

fn parse_csv(bytes: &[u8]) -> Result<Parsed, String> {
    let mut reader = csv::ReaderBuilder::new()
        .has_headers(true)
        .trim(csv::Trim::All)
        .from_reader(bytes);
    let headers = reader
        .headers()
        .map_err(|e| format!("the header row cannot be read: {e}"))?
        .clone();
    let column = |name: &str| headers.iter().position(|h| h == name);
    let known = [
        "personal_number",
        "full_name",
        "birth_date",
        "enterprise_code",
        "registered_name",
        "legal_representatives",
        "agency",
        "position",
    ];
    if let Some(unknown) = headers.iter().find(|h| !known.contains(h)) {
        return Err(format!(
            "unknown column {unknown:?}: residents have personal_number, full_name, birth_date; \
             businesses have enterprise_code, registered_name, legal_representatives; \
             officials have personal_number, agency, position"
        ));
    }
    enum Kind {
        Residents {
            number: usize,
            name: usize,
            birth: Option<usize>,
        },
        Businesses {
            code: usize,
            name: usize,
            representatives: usize,
        },
        Officials {
            number: usize,
            agency: usize,
            position: usize,
        },
    }
    let officials = (column("agency"), column("position"));
    let kind = match (
        column("personal_number"),
        column("full_name"),
        column("enterprise_code"),
        column("registered_name"),
        column("legal_representatives"),
    ) {
        (Some(number), None, None, None, None)
            if column("birth_date").is_none()
                && let (Some(agency), Some(position)) = officials =>
        {
            Kind::Officials {
                number,
                agency,
                position,
            }
        }
        _ if officials != (None, None) => {
            return Err(
                "an officials file has exactly personal_number, agency and position".into(),
            );
        }
        (Some(number), Some(name), None, None, None) => Kind::Residents {
            number,
            name,
            birth: column("birth_date"),
        },
        (None, None, Some(code), Some(name), Some(representatives))
            if column("birth_date").is_none() =>
        {
            Kind::Businesses {
                code,
                name,
                representatives,
            }
        }
        _ => {
            return Err(
                "the header row must name a residents file (personal_number, full_name, \
                 optionally birth_date), a businesses file (enterprise_code, registered_name, \
                 legal_representatives) or an officials file (personal_number, agency, position)"
                    .into(),
            );
        }
    };
    let mut parsed = Parsed::default();
    // The line of the row before, for a row the reader cannot place.
    let mut last_line = 1;
    for row in reader.records() {
        let row = match row {
            Ok(row) => row,
            Err(e) => {
                let line = e.position().map_or(last_line + 1, csv::Position::line);
                last_line = line;
                parsed.rejected.push(Rejected {
                    line,
                    reason: format!("not a CSV row: {e}"),
                });
                continue;
            }
        };
        let line = row.position().map_or(last_line + 1, csv::Position::line);
        last_line = line;
        let field = |i: usize| row.get(i).unwrap_or_default();
        let record = match kind {
            Kind::Residents {
                number,
                name,
                birth,
            } => resident(
                field(number),
                field(name),
                birth.map(field).filter(|b| !b.is_empty()),
            ),
            Kind::Businesses {
                code,
                name,
                representatives,
            } => business(
                field(code),
                field(name),
                field(representatives)
                    .split([';', ' '])
                    .filter(|s| !s.is_empty()),
            ),
            Kind::Officials {
                number,
                agency,
                position,
            } => official(field(number), field(agency), field(position)),
        };
        match record {
            Ok(record) => parsed.records.push((line, record)),
            Err(reason) => parsed.rejected.push(Rejected { line, reason }),
        }
    }
    Ok(parsed)
}

fn resident(number: &str, name: &str, birth: Option<&str>) -> Result<Record, String> {
    let number: PersonalNumber = number
        .parse()
        .map_err(|e| format!("personal number {number:?}: {e}"))?;
    let birth = birth
        .map(|b| {
            b.parse::<CalendarDate>()
                .map_err(|e| format!("birth date {b:?}: {e}"))
        })
        .transpose()?;
    Citizen::new(name, number, birth)
        .map(Record::Resident)
        .map_err(|e| format!("resident {number}: {e}"))
}

fn business<'a>(
    code: &str,
    name: &str,
    representatives: impl Iterator<Item = &'a str>,
) -> Result<Record, String> {
    let code = code
        .parse()
        .map_err(|e| format!("enterprise code {code:?}: {e}"))?;
    let representatives = representatives
        .map(|r| {
            r.parse::<PersonalNumber>()
                .map_err(|e| format!("legal representative {r:?}: {e}"))
        })
        .collect::<Result<Vec<_>, _>>()?;
    Business::new(code, name, representatives)
        .map(Record::Business)
        .map_err(|e| format!("business {code}: {e}"))
}

/// Longest agency or position name accepted (they go into certificates).
const MAX_TITLE: usize = 200;

fn official(number: &str, agency: &str, position: &str) -> Result<Record, String> {
    let personal_number: PersonalNumber = number
        .parse()
        .map_err(|e| format!("personal number {number:?}: {e}"))?;
    let title = |what: &str, value: &str| {
        let value = value.trim();
        if value.is_empty()
            || value.chars().count() > MAX_TITLE
            || value.chars().any(char::is_control)
        {
            Err(format!(
                "official {personal_number}: the {what} must be 1 to {MAX_TITLE} characters of \
                 text"
            ))
        } else {
            Ok(value.to_owned())
        }
    };
    Ok(Record::Official {
        agency: title("agency", agency)?,
        position: title("position", position)?,
        personal_number,
    })
}

fn parse_json_lines(bytes: &[u8]) -> Parsed {
    let mut parsed = Parsed::default();
    for (index, line) in bytes.split(|b| *b == b'\n').enumerate() {
        let line_number = u64::try_from(index).unwrap_or(u64::MAX).saturating_add(1);
        if line.iter().all(u8::is_ascii_whitespace) {
            continue;
        }
        match json_record(line) {
            Ok(record) => parsed.records.push((line_number, record)),
            Err(reason) => parsed.rejected.push(Rejected {
                line: line_number,
                reason,
            }),
        }
    }
    parsed
}

fn json_record(line: &[u8]) -> Result<Record, String> {
    let mut value: serde_json::Value =
        serde_json::from_slice(line).map_err(|e| format!("not a JSON object: {e}"))?;
    let kind = value
        .as_object_mut()
        .ok_or("not a JSON object")?
        .remove("type");
    match kind.as_ref().and_then(|k| k.as_str()) {
        Some("resident") => serde_json::from_value::<Citizen>(value)
            .map(Record::Resident)
            .map_err(|e| format!("resident: {e}")),
        Some("business") => serde_json::from_value::<Business>(value)
            .map(Record::Business)
            .map_err(|e| format!("business: {e}")),
        Some("official") => {
            #[derive(serde::Deserialize)]
            #[serde(deny_unknown_fields)]
            struct Fields {
                personal_number: String,
                agency: String,
                position: String,
            }
            let f: Fields = serde_json::from_value(value).map_err(|e| format!("official: {e}"))?;
            official(&f.personal_number, &f.agency, &f.position)
        }
        _ => Err("\"type\" must be \"resident\", \"business\" or \"official\"".into()),
    }
}

/// What an import did.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Report {
    /// Residents added, updated, and found unchanged.
    pub residents: Counts,
    /// Businesses added, updated, and found unchanged.
    pub businesses: Counts,
    /// Officials added, updated, and found unchanged.
    pub officials: Counts,
    /// Rows not imported: those the file's reading refused, and businesses whose
    /// representatives (and officials who) are not residents.
    pub rejected: Vec<Rejected>,
}

/// Added, updated, unchanged.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct Counts {
    /// New rows.
    pub added: u64,
    /// Rows that changed.
    pub updated: u64,
    /// Rows already as the file says.
    pub unchanged: u64,
}

impl std::fmt::Display for Counts {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(
            f,
            "{} added, {} updated, {} unchanged",
            self.added, self.updated, self.unchanged
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn officials_in_csv_and_json_lines() {
        let csv = "personal_number,agency,position\n\
                   079185004321,Sở Tư pháp,Chuyên viên\n\
                   079185004322,,Chuyên viên\n\
                   07918500432,Sở Tư pháp,Chuyên viên\n";
        let parsed = parse(csv.as_bytes(), Format::Csv).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let Record::Official {
            agency, position, ..
        } = &parsed.records[0].1
        else {
            panic!("an official")
        };
        assert_eq!(
            (agency.as_str(), position.as_str()),
            ("Sở Tư pháp", "Chuyên viên")
        );
        let lines: Vec<u64> = parsed.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [3, 4], "{:?}", parsed.rejected);
        assert!(parsed.rejected[0].reason.contains("agency"));
        // Officials' columns mixed with another kind's: the file is refused.
        assert!(parse(b"personal_number,full_name,agency,position\n", Format::Csv).is_err());
        let jsonl = r#"{"type":"official","personal_number":"079185004321","agency":"Sở Tư pháp","position":"Chuyên viên"}
{"type":"official","personal_number":"079185004321","agency":"Sở Tư pháp"}"#;
        let parsed = parse(jsonl.as_bytes(), Format::JsonLines);
        let parsed = parsed.unwrap();
        assert_eq!(parsed.records.len(), 1);
        assert_eq!(parsed.rejected[0].line, 2);
    }

    #[test]
    fn csv_residents_and_businesses_with_line_numbers() {
        let residents = "personal_number,full_name,birth_date\n\
                         001090012345,Nguyễn Văn An,1990-05-17\n\
                         001090012346,\"Trần, Thị Bình\",\n\
                         00109001234X,Bad Number,\n\
                         001090012347,Wrong Year,1991-01-01\n\
                         001090012348,,\n";
        let parsed = parse(residents.as_bytes(), Format::Csv).unwrap();
        assert_eq!(parsed.records.len(), 2);
        assert_eq!(parsed.records[1].0, 3);
        let Record::Resident(r) = &parsed.records[1].1 else {
            panic!("a resident")
        };
        assert_eq!(r.full_name(), "Trần, Thị Bình");
        assert_eq!(r.birth_date(), None);
        let lines: Vec<u64> = parsed.rejected.iter().map(|r| r.line).collect();
        assert_eq!(lines, [4, 5, 6], "{:?}", parsed.rejected);
        assert!(parsed.rejected[0].reason.contains("00109001234X"));
        assert!(
            parsed.rejected[1].reason.contains("1991"),
            "{:?}",
            parsed.rejected[1]
        );

        let businesses = "enterprise_code,registered_name,legal_representatives\n\
                          0314409058,Công ty TNHH Ví Dụ,001090012345;001090012346\n\
                          0314409059,Bad Check Digit,001090012345\n\
                          0314409058,No One,\n";
        let parsed = parse(businesses.as_bytes(), Format::Csv).unwrap();
        assert_eq!(parsed.records.len(), 1);
        let Record::Business(b) = &parsed.records[0].1 else {
            panic!("a business")
        };
        assert_eq!(b.legal_representatives().len(), 2);
        assert_eq!(parsed.rejected.len(), 2);

        for bad in [
            "personal_number,name\n",
            "personal_number,full_name,enterprise_code\n",
            "enterprise_code,registered_name\n",
        ] {
            assert!(parse(bad.as_bytes(), Format::Csv).is_err(), "{bad}");
        }
    }

    #[test]
    fn json_lines() {
        let text = r#"{"type":"resident","personal_number":"001090012345","full_name":"Nguyễn Văn An","birth_date":"1990-05-17"}

{"type":"business","enterprise_code":"0314409058","registered_name":"Công ty TNHH Ví Dụ","legal_representatives":["001090012345"]}
{"type":"resident","personal_number":"001090012345","full_name":"X","extra":1}
{"type":"official"}
[1, 2]
not json
"#;
        let parsed = parse(text.as_bytes(), Format::JsonLines).unwrap();
        assert_eq!(
            parsed.records.iter().map(|r| r.0).collect::<Vec<_>>(),
            [1, 3]
        );
        assert_eq!(
            parsed.rejected.iter().map(|r| r.line).collect::<Vec<_>>(),
            [4, 5, 6, 7]
        );
        assert!(parsed.rejected[0].reason.contains("extra"));
    }

    proptest::proptest! {
        #[test]
        fn any_bytes_are_read_or_refused(bytes in proptest::collection::vec(proptest::num::u8::ANY, 0..400)) {
            // No panic, and every row read or refused is a line of the file, once.
            let lines = u64::try_from(bytes.split(|b| *b == b'\n').count()).unwrap();
            for parsed in [parse(&bytes, Format::Csv), Ok(parse_json_lines(&bytes))].into_iter().flatten() {
                let mut seen: Vec<u64> = parsed.records.iter().map(|r| r.0)
                    .chain(parsed.rejected.iter().map(|r| r.line))
                    .collect();
                let all = seen.len();
                seen.sort_unstable();
                seen.dedup();
                proptest::prop_assert_eq!(seen.len(), all);
                proptest::prop_assert!(seen.iter().all(|l| (1..=lines).contains(l)), "{seen:?} of {lines}");
            }
        }
    }
}
