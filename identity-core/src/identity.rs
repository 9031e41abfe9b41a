//! Identities (citizens, businesses, officials) and the validated national
//! identifiers they carry.
//!
//! Every type here is a newtype that cannot hold an invalid value: parsing checks
//! every rule and says which one failed.

use std::fmt;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use crate::error::{IdentifierError, IdentifierKind};

/// Province codes of the personal identification number, with the province's name,
/// as published by the Ministry of Public Security.
const PROVINCES: &[(u16, &str)] = &[
    (1, "Hà Nội"),
    (2, "Hà Giang"),
    (4, "Cao Bằng"),
    (6, "Bắc Kạn"),
    (8, "Tuyên Quang"),
    (10, "Lào Cai"),
    (11, "Điện Biên"),
    (12, "Lai Châu"),
    (14, "Sơn La"),
    (15, "Yên Bái"),
    (17, "Hòa Bình"),
    (19, "Thái Nguyên"),
    (20, "Lạng Sơn"),
    (22, "Quảng Ninh"),
    (24, "Bắc Giang"),
    (25, "Phú Thọ"),
    (26, "Vĩnh Phúc"),
    (27, "Bắc Ninh"),
    (30, "Hải Dương"),
    (31, "Hải Phòng"),
    (33, "Hưng Yên"),
    (34, "Thái Bình"),
    (35, "Hà Nam"),
    (36, "Nam Định"),
    (37, "Ninh Bình"),
    (38, "Thanh Hóa"),
    (40, "Nghệ An"),
    (42, "Hà Tĩnh"),
    (44, "Quảng Bình"),
    (45, "Quảng Trị"),
    (46, "Thừa Thiên Huế"),
    (48, "Đà Nẵng"),
    (49, "Quảng Nam"),
    (51, "Quảng Ngãi"),
    (52, "Bình Định"),
    (54, "Phú Yên"),
    (56, "Khánh Hòa"),
    (58, "Ninh Thuận"),
    (60, "Bình Thuận"),
    (62, "Kon Tum"),
    (64, "Gia Lai"),
    (66, "Đắk Lắk"),
    (67, "Đắk Nông"),
    (68, "Lâm Đồng"),
    (70, "Bình Phước"),
    (72, "Tây Ninh"),
    (74, "Bình Dương"),
    (75, "Đồng Nai"),
    (77, "Bà Rịa - Vũng Tàu"),
    (79, "Hồ Chí Minh"),
    (80, "Long An"),
    (82, "Tiền Giang"),
    (83, "Bến Tre"),
    (84, "Trà Vinh"),
    (86, "Vĩnh Long"),
    (87, "Đồng Tháp"),
    (89, "An Giang"),
    (91, "Kiên Giang"),
    (92, "Cần Thơ"),
    (93, "Hậu Giang"),
    (94, "Sóc Trăng"),
    (95, "Bạc Liêu"),
    (96, "Cà Mau"),
];

/// Weights of the enterprise code's check digit, over its first nine digits.
const ENTERPRISE_WEIGHTS: [u32; 9] = [31, 29, 23, 19, 17, 13, 7, 5, 3];

/// Reads exactly `N` ASCII digits, saying which rule a bad input breaks.
fn digits<const N: usize>(s: &str, kind: IdentifierKind) -> Result<[u8; N], IdentifierError> {
    let found = s.chars().count();
    if found != N {
        return Err(IdentifierError::Length {
            kind,
            expected: N,
            found,
        });
    }
    let mut out = [0u8; N];
    for (i, (slot, c)) in out.iter_mut().zip(s.chars()).enumerate() {
        *slot = c
            .to_digit(10)
            .filter(|_| c.is_ascii_digit())
            .and_then(|d| u8::try_from(d).ok())
            .ok_or(IdentifierError::NonDigit {
                kind,
                position: i + 1,
            })?;
    }
    Ok(out)
}

fn number(ds: &[u8]) -> u16 {
    ds.iter().fold(0u16, |n, &d| n * 10 + u16::from(d))
}

/// A province of the personal identification number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Province {
    code: u16,
    name: &'static str,
}

impl Province {
    /// Looks up a province by its three-digit code (1 for Hà Nội, 79 for Hồ Chí Minh).
    pub fn from_code(code: u16) -> Option<Self> {
        PROVINCES
            .iter()
            .find(|(c, _)| *c == code)
            .map(|&(code, name)| Self { code, name })
    }

    /// The numeric code (printed with three digits, `001`).
    pub fn code(&self) -> u16 {
        self.code
    }

    /// The province's name in Vietnamese.
    pub fn name(&self) -> &'static str {
        self.name
    }
}

/// Sex as encoded in the personal identification number.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Sex {
    /// Even century digit.
    Male,
    /// Odd century digit.
    Female,
}

/// A date of the proleptic Gregorian calendar, written `YYYY-MM-DD`.
///
/// ```
/// use identity_core::CalendarDate;
/// let d: CalendarDate = "2000-02-29".parse()?;
/// assert_eq!((d.year(), d.month(), d.day()), (2000, 2, 29));
/// assert!("2100-02-29".parse::<CalendarDate>().is_err());
/// # Ok::<(), identity_core::IdentifierError>(())
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct CalendarDate {
    year: u16,
    month: u8,
    day: u8,
}

impl CalendarDate {
    /// Makes a date, refusing days that do not exist (30 February, 29 February 2100).
    pub fn new(year: u16, month: u8, day: u8) -> Result<Self, IdentifierError> {
        let leap =
            (year.is_multiple_of(4) && !year.is_multiple_of(100)) || year.is_multiple_of(400);
        let days = match month {
            1 | 3 | 5 | 7 | 8 | 10 | 12 => 31,
            4 | 6 | 9 | 11 => 30,
            2 if leap => 29,
            2 => 28,
            _ => 0,
        };
        if year == 0 || day == 0 || day > days {
            return Err(IdentifierError::Date {
                found: format!("{year:04}-{month:02}-{day:02}"),
            });
        }
        Ok(Self { year, month, day })
    }

    /// The year.
    pub fn year(&self) -> u16 {
        self.year
    }

    /// The month, 1–12.
    pub fn month(&self) -> u8 {
        self.month
    }

    /// The day of the month, 1–31.
    pub fn day(&self) -> u8 {
        self.day
    }
}

impl FromStr for CalendarDate {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let bad = || IdentifierError::Date {
            found: s.to_owned(),
        };
        let b = s.as_bytes();
        if b.len() != 10 || b.get(4) != Some(&b'-') || b.get(7) != Some(&b'-') {
            return Err(bad());
        }
        let field = |range: std::ops::Range<usize>| -> Result<u16, IdentifierError> {
            let part = s.get(range).ok_or_else(bad)?;
            if !part.bytes().all(|c| c.is_ascii_digit()) {
                return Err(bad());
            }
            part.parse().map_err(|_| bad())
        };
        let year = field(0..4)?;
        let month = u8::try_from(field(5..7)?).map_err(|_| bad())?;
        let day = u8::try_from(field(8..10)?).map_err(|_| bad())?;
        Self::new(year, month, day).map_err(|_| bad())
    }
}

impl fmt::Display for CalendarDate {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{:04}-{:02}-{:02}", self.year, self.month, self.day)
    }
}

impl TryFrom<String> for CalendarDate {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<CalendarDate> for String {
    fn from(d: CalendarDate) -> Self {
        d.to_string()
    }
}

/// A personal identification number (số định danh cá nhân): 12 digits, a province
/// code, a sex-and-century digit, two digits of the birth year and a 6-digit sequence.
///
/// ```
/// use identity_core::{PersonalNumber, Sex};
/// let n: PersonalNumber = "079203001234".parse()?;
/// assert_eq!(n.province().name(), "Hồ Chí Minh");
/// assert_eq!(n.sex(), Sex::Male);
/// assert_eq!(n.birth_year(), 2003);
/// assert_eq!(n.to_string(), "079203001234");
/// // 003 is not a province code.
/// assert!("003203001234".parse::<PersonalNumber>().is_err());
/// # Ok::<(), identity_core::IdentifierError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct PersonalNumber([u8; 12]);

impl PersonalNumber {
    const KIND: IdentifierKind = IdentifierKind::PersonalNumber;

    /// The province where the number was registered.
    pub fn province(&self) -> Province {
        // Parsing only admits listed codes.
        Province::from_code(number(&self.0[..3])).unwrap_or(Province { code: 0, name: "" })
    }

    /// The holder's sex.
    pub fn sex(&self) -> Sex {
        if self.0[3].is_multiple_of(2) {
            Sex::Male
        } else {
            Sex::Female
        }
    }

    /// The holder's year of birth, from the century digit and the two year digits.
    pub fn birth_year(&self) -> u16 {
        1900 + 100 * u16::from(self.0[3] / 2) + number(&self.0[4..6])
    }

    /// The six-digit sequence number.
    pub fn sequence(&self) -> u32 {
        self.0[6..].iter().fold(0u32, |n, &d| n * 10 + u32::from(d))
    }

    /// Checks that a birth date (from a register or a document) agrees with the year
    /// encoded in the number.
    pub fn check_birth_date(&self, date: CalendarDate) -> Result<(), IdentifierError> {
        if !(1900..=2399).contains(&date.year()) {
            return Err(IdentifierError::CenturyDigit { year: date.year() });
        }
        if date.year() != self.birth_year() {
            return Err(IdentifierError::BirthYearMismatch {
                number_year: self.birth_year(),
                date_year: date.year(),
            });
        }
        Ok(())
    }
}

impl FromStr for PersonalNumber {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let d: [u8; 12] = digits(s, Self::KIND)?;
        if Province::from_code(number(&d[..3])).is_none() {
            return Err(IdentifierError::Province {
                kind: Self::KIND,
                code: s.get(..3).unwrap_or_default().to_owned(),
            });
        }
        // Every century digit 0-9 is assigned (1900s to 2300s, male and female).
        Ok(Self(d))
    }
}

impl fmt::Display for PersonalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.iter().try_for_each(|d| write!(f, "{d}"))
    }
}

impl fmt::Debug for PersonalNumber {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "PersonalNumber({self})")
    }
}

impl TryFrom<String> for PersonalNumber {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<PersonalNumber> for String {
    fn from(n: PersonalNumber) -> Self {
        n.to_string()
    }
}

/// An enterprise code, which is also the tax code (mã số doanh nghiệp, mã số thuế):
/// 10 digits ending in a check digit, and for a branch a `-NNN` suffix.
///
/// ```
/// use identity_core::EnterpriseCode;
/// let head: EnterpriseCode = "0314409058".parse()?;
/// let branch: EnterpriseCode = "0314409058-002".parse()?;
/// assert_eq!(branch.branch(), Some(2));
/// assert_eq!(branch.head_office(), head);
/// assert!("0314409059".parse::<EnterpriseCode>().is_err()); // check digit
/// # Ok::<(), identity_core::IdentifierError>(())
/// ```
#[derive(Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(try_from = "String", into = "String")]
pub struct EnterpriseCode {
    digits: [u8; 10],
    branch: Option<u16>,
}

impl EnterpriseCode {
    const KIND: IdentifierKind = IdentifierKind::EnterpriseCode;

    /// The check digit that the first nine digits require, or `None` when no digit
    /// can satisfy them (the weighted sum is 0 modulo 11).
    pub fn check_digit(first_nine: &[u8; 9]) -> Option<u8> {
        let s = first_nine
            .iter()
            .zip(ENTERPRISE_WEIGHTS)
            .map(|(&d, w)| u32::from(d) * w)
            .sum::<u32>()
            % 11;
        // s is 0..=10; s = 0 would need a check digit of 10.
        (s != 0).then(|| u8::try_from(10 - s).unwrap_or(0))
    }

    /// The branch number, 1–999, or `None` for the enterprise itself.
    pub fn branch(&self) -> Option<u16> {
        self.branch
    }

    /// The code of the enterprise this code belongs to (itself, without a branch).
    pub fn head_office(&self) -> Self {
        Self {
            digits: self.digits,
            branch: None,
        }
    }

    /// The two-digit province (tax office) prefix.
    pub fn province_prefix(&self) -> u8 {
        self.digits[0] * 10 + self.digits[1]
    }
}

impl FromStr for EnterpriseCode {
    type Err = IdentifierError;

    fn from_str(s: &str) -> Result<Self, Self::Err> {
        let (main, branch) = match s.char_indices().nth(10) {
            None => (s, None),
            Some((i, _)) => (s.get(..i).unwrap_or(s), s.get(i..)),
        };
        let digits: [u8; 10] = digits(main, Self::KIND)?;
        if digits[..2] == [0, 0] {
            return Err(IdentifierError::Province {
                kind: Self::KIND,
                code: "00".into(),
            });
        }
        if digits[2..9].iter().all(|&d| d == 0) {
            return Err(IdentifierError::ZeroSerial);
        }
        let mut first_nine = [0u8; 9];
        first_nine.copy_from_slice(&digits[..9]);
        let expected = Self::check_digit(&first_nine);
        if expected != Some(digits[9]) {
            return Err(IdentifierError::Checksum {
                kind: Self::KIND,
                expected,
                found: digits[9],
            });
        }
        let branch = match branch {
            None => None,
            Some(suffix) => {
                let bad = || IdentifierError::Branch {
                    found: suffix.to_owned(),
                };
                let n = suffix
                    .strip_prefix('-')
                    .filter(|n| n.len() == 3 && n.bytes().all(|c| c.is_ascii_digit()))
                    .and_then(|n| n.parse::<u16>().ok())
                    .ok_or_else(bad)?;
                if n == 0 {
                    return Err(bad());
                }
                Some(n)
            }
        };
        Ok(Self { digits, branch })
    }
}

impl fmt::Display for EnterpriseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.digits.iter().try_for_each(|d| write!(f, "{d}"))?;
        match self.branch {
            Some(b) => write!(f, "-{b:03}"),
            None => Ok(()),
        }
    }
}

impl fmt::Debug for EnterpriseCode {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "EnterpriseCode({self})")
    }
}

impl TryFrom<String> for EnterpriseCode {
    type Error = IdentifierError;
    fn try_from(s: String) -> Result<Self, Self::Error> {
        s.parse()
    }
}

impl From<EnterpriseCode> for String {
    fn from(c: EnterpriseCode) -> Self {
        c.to_string()
    }
}

/// How much confidence a relying party can place in an identity claim.
///
/// Ordered: `Low < Substantial < High`, so a portal's minimum is a comparison.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum AssuranceLevel {
    /// Self-asserted.
    Low,
    /// Identity proofed; one strong factor such as a passkey with user verification.
    Substantial,
    /// Proofed in person; a hardware-bound key.
    High,
}

impl AssuranceLevel {
    /// The name used in `acr` claims and configuration: `low`, `substantial`, `high`.
    pub fn as_str(&self) -> &'static str {
        match self {
            Self::Low => "low",
            Self::Substantial => "substantial",
            Self::High => "high",
        }
    }
}

impl fmt::Display for AssuranceLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for AssuranceLevel {
    type Err = IdentifierError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        match s {
            "low" => Ok(Self::Low),
            "substantial" => Ok(Self::Substantial),
            "high" => Ok(Self::High),
            _ => Err(IdentifierError::Text {
                field: "assurance level (low, substantial, high)",
            }),
        }
    }
}

/// Trims a required text field and refuses it if empty or holding control characters.
fn text(field: &'static str, value: String) -> Result<String, IdentifierError> {
    let trimmed = value.trim();
    if trimmed.is_empty() || trimmed.chars().any(char::is_control) {
        return Err(IdentifierError::Text { field });
    }
    Ok(if trimmed.len() == value.len() {
        value
    } else {
        trimmed.to_owned()
    })
}

/// A resident, identified by a personal identification number.
///
/// ```
/// use identity_core::{Citizen, CalendarDate};
/// let c = Citizen::new(
///     "Nguyễn Văn An",
///     "001090012345".parse()?,
///     Some(CalendarDate::new(1990, 5, 17)?),
/// )?;
/// assert_eq!(c.full_name(), "Nguyễn Văn An");
/// // A birth date in another year than the number's is refused.
/// assert!(Citizen::new("X", "001090012345".parse()?, Some(CalendarDate::new(1991, 1, 1)?)).is_err());
/// # Ok::<(), identity_core::IdentifierError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "CitizenFields")]
pub struct Citizen {
    full_name: String,
    personal_number: PersonalNumber,
    #[serde(skip_serializing_if = "Option::is_none")]
    birth_date: Option<CalendarDate>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct CitizenFields {
    full_name: String,
    personal_number: PersonalNumber,
    #[serde(default)]
    birth_date: Option<CalendarDate>,
}

impl TryFrom<CitizenFields> for Citizen {
    type Error = IdentifierError;
    fn try_from(f: CitizenFields) -> Result<Self, Self::Error> {
        Self::new(f.full_name, f.personal_number, f.birth_date)
    }
}

impl Citizen {
    /// Makes a citizen record, checking the name and that the birth date (if known)
    /// agrees with the personal number.
    pub fn new(
        full_name: impl Into<String>,
        personal_number: PersonalNumber,
        birth_date: Option<CalendarDate>,
    ) -> Result<Self, IdentifierError> {
        if let Some(date) = birth_date {
            personal_number.check_birth_date(date)?;
        }
        Ok(Self {
            full_name: text("full name", full_name.into())?,
            personal_number,
            birth_date,
        })
    }

    /// The full name, in Vietnamese with diacritics.
    pub fn full_name(&self) -> &str {
        &self.full_name
    }

    /// The personal identification number.
    pub fn personal_number(&self) -> PersonalNumber {
        self.personal_number
    }

    /// The birth date, when the register gave one.
    pub fn birth_date(&self) -> Option<CalendarDate> {
        self.birth_date
    }
}

/// A business, identified by its enterprise code, acting through its legal
/// representatives.
///
/// ```
/// use identity_core::Business;
/// let b = Business::new("0314409058".parse()?, "Công ty TNHH Ví Dụ", vec!["079203001234".parse()?])?;
/// assert!(b.is_represented_by("079203001234".parse()?));
/// # Ok::<(), identity_core::IdentifierError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "BusinessFields")]
pub struct Business {
    enterprise_code: EnterpriseCode,
    registered_name: String,
    legal_representatives: Vec<PersonalNumber>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct BusinessFields {
    enterprise_code: EnterpriseCode,
    registered_name: String,
    legal_representatives: Vec<PersonalNumber>,
}

impl TryFrom<BusinessFields> for Business {
    type Error = IdentifierError;
    fn try_from(f: BusinessFields) -> Result<Self, Self::Error> {
        Self::new(
            f.enterprise_code,
            f.registered_name,
            f.legal_representatives,
        )
    }
}

impl Business {
    /// Makes a business record; it needs a name and at least one legal representative.
    pub fn new(
        enterprise_code: EnterpriseCode,
        registered_name: impl Into<String>,
        mut legal_representatives: Vec<PersonalNumber>,
    ) -> Result<Self, IdentifierError> {
        legal_representatives.sort_unstable();
        legal_representatives.dedup();
        if legal_representatives.is_empty() {
            return Err(IdentifierError::NoRepresentative);
        }
        Ok(Self {
            enterprise_code,
            registered_name: text("registered name", registered_name.into())?,
            legal_representatives,
        })
    }

    /// The enterprise (tax) code.
    pub fn enterprise_code(&self) -> EnterpriseCode {
        self.enterprise_code
    }

    /// The registered name.
    pub fn registered_name(&self) -> &str {
        &self.registered_name
    }

    /// The personal numbers of the legal representatives, sorted, without repeats.
    pub fn legal_representatives(&self) -> &[PersonalNumber] {
        &self.legal_representatives
    }

    /// Whether the person with this number may act for the business.
    pub fn is_represented_by(&self, person: PersonalNumber) -> bool {
        self.legal_representatives.binary_search(&person).is_ok()
    }
}

/// A public official: a citizen holding a position in an agency.
///
/// ```
/// use identity_core::{Citizen, Official};
/// let c = Citizen::new("Trần Thị Bình", "001190012345".parse()?, None)?;
/// let o = Official::new(c, "Sở Tư pháp Hà Nội", "Phó Giám đốc")?;
/// assert_eq!(o.agency(), "Sở Tư pháp Hà Nội");
/// # Ok::<(), identity_core::IdentifierError>(())
/// ```
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(try_from = "OfficialFields")]
pub struct Official {
    citizen: Citizen,
    agency: String,
    position: String,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct OfficialFields {
    citizen: Citizen,
    agency: String,
    position: String,
}

impl TryFrom<OfficialFields> for Official {
    type Error = IdentifierError;
    fn try_from(f: OfficialFields) -> Result<Self, Self::Error> {
        Self::new(f.citizen, f.agency, f.position)
    }
}

impl Official {
    /// Makes an official's record; agency and position must be non-empty.
    pub fn new(
        citizen: Citizen,
        agency: impl Into<String>,
        position: impl Into<String>,
    ) -> Result<Self, IdentifierError> {
        Ok(Self {
            citizen,
            agency: text("agency", agency.into())?,
            position: text("position", position.into())?,
        })
    }

    /// The person.
    pub fn citizen(&self) -> &Citizen {
        &self.citizen
    }

    /// The agency the official works for.
    pub fn agency(&self) -> &str {
        &self.agency
    }

    /// The official's position in the agency.
    pub fn position(&self) -> &str {
        &self.position
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn pn(s: &str) -> Result<PersonalNumber, IdentifierError> {
        s.parse()
    }
    fn ec(s: &str) -> Result<EnterpriseCode, IdentifierError> {
        s.parse()
    }

    #[test]
    fn personal_number_fields() {
        let n = pn("001190012345").unwrap();
        assert_eq!(n.province().code(), 1);
        assert_eq!(n.province().name(), "Hà Nội");
        assert_eq!(n.sex(), Sex::Female);
        assert_eq!(n.birth_year(), 1990);
        assert_eq!(n.sequence(), 12345);
        let centuries = [
            (0, 1900, Sex::Male),
            (3, 2000, Sex::Female),
            (4, 2100, Sex::Male),
        ];
        for (digit, base, sex) in centuries {
            let n = pn(&format!("096{digit}05000001")).unwrap();
            assert_eq!((n.birth_year(), n.sex()), (base + 5, sex));
        }
        let n = pn("096905000001").unwrap();
        assert_eq!((n.birth_year(), n.sex()), (2305, Sex::Female));
    }

    #[test]
    fn personal_number_errors_name_the_rule() {
        let kind = IdentifierKind::PersonalNumber;
        assert_eq!(
            pn("00119001234"),
            Err(IdentifierError::Length {
                kind,
                expected: 12,
                found: 11
            })
        );
        assert_eq!(
            pn("0011900123456"),
            Err(IdentifierError::Length {
                kind,
                expected: 12,
                found: 13
            })
        );
        assert_eq!(
            pn("00119001234a"),
            Err(IdentifierError::NonDigit { kind, position: 12 })
        );
        // Non-ASCII digits (Arabic-Indic five) are refused too.
        assert_eq!(
            pn("00119001234٥"),
            Err(IdentifierError::NonDigit { kind, position: 12 })
        );
        assert_eq!(
            pn("003190012345"),
            Err(IdentifierError::Province {
                kind,
                code: "003".into()
            })
        );
        assert_eq!(
            pn("097190012345"),
            Err(IdentifierError::Province {
                kind,
                code: "097".into()
            })
        );
        assert_eq!(
            pn("000190012345"),
            Err(IdentifierError::Province {
                kind,
                code: "000".into()
            })
        );
    }

    #[test]
    fn birth_date_consistency() {
        let n = pn("079203001234").unwrap();
        assert!(
            n.check_birth_date(CalendarDate::new(2003, 12, 31).unwrap())
                .is_ok()
        );
        assert_eq!(
            n.check_birth_date(CalendarDate::new(1903, 1, 1).unwrap()),
            Err(IdentifierError::BirthYearMismatch {
                number_year: 2003,
                date_year: 1903
            })
        );
        assert_eq!(
            n.check_birth_date(CalendarDate::new(1899, 1, 1).unwrap()),
            Err(IdentifierError::CenturyDigit { year: 1899 })
        );
    }

    #[test]
    fn enterprise_codes() {
        assert!(ec("0314409058").is_ok());
        let b = ec("0314409058-002").unwrap();
        assert_eq!(b.branch(), Some(2));
        assert_eq!(b.to_string(), "0314409058-002");
        assert_eq!(b.province_prefix(), 3);
        assert!(ec("0314409058-999").is_ok());
        let kind = IdentifierKind::EnterpriseCode;
        assert_eq!(
            ec("0314409057"),
            Err(IdentifierError::Checksum {
                kind,
                expected: Some(8),
                found: 7
            })
        );
        assert_eq!(
            ec("031440905"),
            Err(IdentifierError::Length {
                kind,
                expected: 10,
                found: 9
            })
        );
        assert_eq!(
            ec("03144O9058"),
            Err(IdentifierError::NonDigit { kind, position: 6 })
        );
        assert_eq!(
            ec("0014409058"),
            Err(IdentifierError::Province {
                kind,
                code: "00".into()
            })
        );
        assert_eq!(ec("0100000000"), Err(IdentifierError::ZeroSerial));
        for bad in ["-000", "-1000", "-01", "002", "-00a", "--02", "-"] {
            assert_eq!(
                ec(&format!("0314409058{bad}")),
                Err(IdentifierError::Branch { found: bad.into() }),
                "{bad}"
            );
        }
    }

    #[test]
    fn weighted_sum_zero_has_no_check_digit() {
        // 0100000080: 1*29 + 8*5 = 69 = 6*11 + 3, so s = 3 and the check digit is 7.
        assert_eq!(
            EnterpriseCode::check_digit(&[0, 1, 0, 0, 0, 0, 0, 8, 0]),
            Some(7)
        );
        // 010000005: 1*29 + 5*3 = 44 = 4*11, so s = 0 and no check digit fits.
        let nine = [0, 1, 0, 0, 0, 0, 0, 0, 5];
        assert_eq!(EnterpriseCode::check_digit(&nine), None);
        for last in 0..10 {
            let s = format!("010000005{last}");
            assert!(
                matches!(
                    ec(&s),
                    Err(IdentifierError::Checksum { expected: None, .. })
                ),
                "{s}"
            );
        }
    }

    #[test]
    fn calendar_dates() {
        assert!(CalendarDate::new(2024, 2, 29).is_ok());
        assert!(CalendarDate::new(2023, 2, 29).is_err());
        assert!(CalendarDate::new(2000, 2, 29).is_ok());
        assert!(CalendarDate::new(2024, 4, 31).is_err());
        assert!(CalendarDate::new(2024, 13, 1).is_err());
        for bad in [
            "2024-1-01",
            "2024/01/01",
            "20240101",
            "2024-01-0x",
            "+024-01-01",
            "2024-00-10",
        ] {
            assert!(bad.parse::<CalendarDate>().is_err(), "{bad}");
        }
    }

    #[test]
    fn identities_validate_on_deserialize() {
        let ok = r#"{"full_name":"Lê Văn C","personal_number":"001090012345","birth_date":"1990-01-02"}"#;
        let c: Citizen = serde_json::from_str(ok).unwrap();
        assert_eq!(
            serde_json::from_str::<Citizen>(&serde_json::to_string(&c).unwrap()).unwrap(),
            c
        );
        let wrong_year = ok.replace("1990-01-02", "1991-01-02");
        assert!(serde_json::from_str::<Citizen>(&wrong_year).is_err());
        let empty_name = ok.replace("Lê Văn C", "  ");
        assert!(serde_json::from_str::<Citizen>(&empty_name).is_err());
        let bad_number = ok.replace("001090012345", "001090O12345");
        assert!(serde_json::from_str::<Citizen>(&bad_number).is_err());

        let b = r#"{"enterprise_code":"0314409058-002","registered_name":"Chi nhánh","legal_representatives":[]}"#;
        assert!(serde_json::from_str::<Business>(b).is_err());
        let o = format!(r#"{{"citizen":{ok},"agency":"Bộ Tư pháp","position":"Chuyên viên"}}"#);
        let o: Official = serde_json::from_str(&o).unwrap();
        assert_eq!(o.citizen(), &c);
        assert_eq!(
            serde_json::to_value(AssuranceLevel::Substantial).unwrap(),
            "substantial"
        );
        assert!(AssuranceLevel::Low < AssuranceLevel::High);
    }

    fn valid_personal_number() -> impl Strategy<Value = String> {
        (0..PROVINCES.len(), 0u8..10, 0u8..100, 0u32..1_000_000)
            .prop_map(|(p, c, y, s)| format!("{:03}{c}{y:02}{s:06}", PROVINCES[p].0))
    }

    fn valid_enterprise_code() -> impl Strategy<Value = String> {
        (
            1u32..100,
            1u32..10_000_000,
            proptest::option::of(1u16..1000),
        )
            .prop_filter_map(
                "weighted sum 0 has no check digit",
                |(p, serial, branch)| {
                    let s = format!("{p:02}{serial:07}");
                    let nine: [u8; 9] = s
                        .bytes()
                        .map(|b| b - b'0')
                        .collect::<Vec<_>>()
                        .try_into()
                        .ok()?;
                    let check = EnterpriseCode::check_digit(&nine)?;
                    Some(match branch {
                        Some(b) => format!("{s}{check}-{b:03}"),
                        None => format!("{s}{check}"),
                    })
                },
            )
    }

    proptest! {
        #[test]
        fn personal_number_round_trips(s in valid_personal_number()) {
            let n: PersonalNumber = s.parse().unwrap();
            prop_assert_eq!(n.to_string(), s.clone());
            let json = serde_json::to_string(&n).unwrap();
            prop_assert_eq!(serde_json::from_str::<PersonalNumber>(&json).unwrap(), n);
        }

        #[test]
        fn enterprise_code_round_trips(s in valid_enterprise_code()) {
            let c: EnterpriseCode = s.parse().unwrap();
            prop_assert_eq!(c.to_string(), s.clone());
            let json = serde_json::to_string(&c).unwrap();
            prop_assert_eq!(serde_json::from_str::<EnterpriseCode>(&json).unwrap(), c);
        }

        #[test]
        fn one_changed_digit_breaks_the_check(s in valid_enterprise_code(), pos in 0usize..10, delta in 1u8..10) {
            // Weights are all coprime with 11, so any single-digit change alters the sum.
            let mut b = s.into_bytes();
            b[pos] = b'0' + (b[pos] - b'0' + delta) % 10;
            let changed = String::from_utf8(b).unwrap();
            let result = changed.parse::<EnterpriseCode>();
            if changed.starts_with("00") {
                prop_assert!(matches!(result, Err(IdentifierError::Province { .. })), "{changed}");
            } else if changed[2..9].bytes().all(|c| c == b'0') {
                prop_assert_eq!(result, Err(IdentifierError::ZeroSerial));
            } else {
                prop_assert!(matches!(result, Err(IdentifierError::Checksum { .. })), "{changed}");
            }
        }

        #[test]
        fn calendar_dates_round_trip(y in 1u16..10_000, m in 1u8..13, d in 1u8..32) {
            if let Ok(date) = CalendarDate::new(y, m, d) {
                prop_assert_eq!(date.to_string().parse::<CalendarDate>(), Ok(date));
                let json = serde_json::to_string(&date).unwrap();
                prop_assert_eq!(serde_json::from_str::<CalendarDate>(&json).unwrap(), date);
            } else {
                prop_assert!(d > 28);
            }
        }

        #[test]
        fn parsers_never_panic(s in "\\PC{0,20}") {
            let _ = s.parse::<PersonalNumber>();
            let _ = s.parse::<EnterpriseCode>();
            let _ = s.parse::<CalendarDate>();
        }
    }
}
