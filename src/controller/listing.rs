//! Reads of people batched into listings. A reconcile must see the person before it writes;
//! reading people one by one costs one call each, a listing one call per 100 people. When more
//! reconciles of an org wait to read than a listing of the org costs (a cold start, a bulk spec
//! change), one of them lists the org and the others read from that listing. Drift detection
//! publishes its own listings too.
//!
//! A listing may stand in for a read only when:
//! - it is at most [`MAX_AGE`] old and began after the object's status was last written (so it
//!   shows the object's own last writes);
//! - by id, when the id is in it (absent, the caller reads by id, as a deletion must be sure);
//! - by email, only for the first create (no person id, no recorded create intent); a create
//!   whose email turns out taken (409), or a write whose person is gone (404), forgets the
//!   listing, so the retry reads afresh.
//!
//! The reconciler performs only additive writes (create, licence PATCH) on a listed person; a
//! write that replaces the person (PUT) or deletes it is planned again on a fresh read.

use std::collections::hash_map::Entry;
use std::collections::{HashMap, HashSet};
use std::hash::{Hash, Hasher};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::time::Instant;

use crate::webex::client::{PEOPLE_PAGE_SIZE, WebexClient};
use crate::webex::model::Person;

/// How long a listing stands in for reads.
pub const MAX_AGE: Duration = Duration::from_secs(60);

/// One listing of an org's people.
#[derive(Debug)]
pub struct Snapshot {
    /// When the listing began (wall clock, compared with `status.lastSynced`).
    pub began: jiff::Timestamp,
    at: Instant,
    pub people: Vec<Person>,
    by_id: HashIndex,
    by_email: HashIndex,
}

impl Snapshot {
    pub fn new(began: jiff::Timestamp, mut people: Vec<Person>) -> Self {
        // Pages were appended with doubling growth: up to 40 % of a 10,000-person listing's
        // slots (600 bytes each) would sit empty for the listing's life.
        people.shrink_to_fit();
        let mut by_id = HashIndex::default();
        let mut by_email = HashIndex::default();
        for (i, person) in people.iter().enumerate() {
            by_id.insert(&person.id, i);
            for email in &person.emails {
                by_email.insert(&email.to_ascii_lowercase(), i);
            }
        }
        Self {
            began,
            at: Instant::now(),
            people,
            by_id,
            by_email,
        }
    }

    fn fresh(&self, not_before: Option<jiff::Timestamp>) -> bool {
        self.at.elapsed() <= MAX_AGE && not_before.is_none_or(|t| self.began > t)
    }

    pub fn by_id(&self, id: &str) -> Option<&Person> {
        self.by_id
            .find(id, &self.people, |p| p.id == id)
            .and_then(|i| self.people.get(i))
    }

    pub fn by_email(&self, email: &str) -> Option<&Person> {
        let email = email.to_ascii_lowercase();
        self.by_email
            .find(&email, &self.people, |p| {
                p.emails.iter().any(|e| e.eq_ignore_ascii_case(&email))
            })
            .and_then(|i| self.people.get(i))
    }
}

/// Positions in a listing by the hash of a key (an id, a lower-cased email) rather than by a copy
/// of the key: the copies cost about 2 MiB per 10,000 people. A hash that two people share is
/// marked ambiguous and found by a scan; every answer is checked against the person itself.
#[derive(Debug, Default)]
struct HashIndex {
    slots: HashMap<u64, usize>,
    ambiguous: HashSet<u64>,
}

impl HashIndex {
    fn hash(key: &str) -> u64 {
        let mut hasher = std::collections::hash_map::DefaultHasher::new();
        key.hash(&mut hasher);
        hasher.finish()
    }

    fn insert(&mut self, key: &str, at: usize) {
        let hash = Self::hash(key);
        match self.slots.entry(hash) {
            Entry::Occupied(slot) if *slot.get() != at => {
                self.ambiguous.insert(hash);
            }
            Entry::Occupied(_) => {}
            Entry::Vacant(slot) => {
                slot.insert(at);
            }
        }
    }

    fn find(&self, key: &str, people: &[Person], is_it: impl Fn(&Person) -> bool) -> Option<usize> {
        let hash = Self::hash(key);
        if self.ambiguous.contains(&hash) {
            return people.iter().position(is_it);
        }
        self.slots
            .get(&hash)
            .copied()
            .filter(|i| people.get(*i).is_some_and(&is_it))
    }
}

/// What to look up.
#[derive(Debug, Clone, Copy)]
pub enum Key<'a> {
    Id(&'a str),
    /// The email of a person never created: absent from the listing means absent.
    FirstCreate(&'a str),
}

/// The answer of a listing.
#[derive(Debug, Clone)]
pub enum Listed {
    Found(Box<Person>),
    Absent,
}

/// Reconciles of one org that run at once; the others wait in a small future. (Unbounded, a
/// cold start of 10,000 users had 10,000 reconcile futures of tens of KiB each alive while they
/// waited for the org's API budget: 400 MiB.) Budget-bound throughput needs far fewer: one
/// reconcile takes a few hundred milliseconds of calls.
pub const RECONCILES_PER_ORG: usize = 256;

#[derive(Debug)]
struct OrgListings {
    /// Slots of [`RECONCILES_PER_ORG`].
    slots: Arc<tokio::sync::Semaphore>,
    /// Reconciles of the org reading a person right now.
    reading: AtomicUsize,
    /// One listing at a time; the others wait for it.
    gate: tokio::sync::Mutex<()>,
    latest: Mutex<Option<Arc<Snapshot>>>,
    /// When a listing last failed: then readers read one by one for a while.
    failed_at: Mutex<Option<Instant>>,
}

impl Default for OrgListings {
    fn default() -> Self {
        Self {
            slots: Arc::new(tokio::sync::Semaphore::new(RECONCILES_PER_ORG)),
            reading: AtomicUsize::default(),
            gate: tokio::sync::Mutex::default(),
            latest: Mutex::default(),
            failed_at: Mutex::default(),
        }
    }
}

/// A reconcile's slot of its org; it counts as a reader while it lives.
pub struct Entered {
    _reading: Reading,
    _slot: Option<tokio::sync::OwnedSemaphorePermit>,
}

/// The listings of every org.
#[derive(Debug, Default)]
pub struct Listings {
    orgs: Mutex<HashMap<String, Arc<OrgListings>>>,
    /// When an object's last Webex write ended, for the last [`MAX_AGE`]: a listing must begin
    /// after it to stand in for the object's read. `status.lastSynced` says the same only when
    /// the status write after the change happened; when it is skipped (nothing but its time
    /// would change) or fails, an older listing would show the person as before the write.
    written: Mutex<HashMap<String, jiff::Timestamp>>,
}

/// Counts a reader of an org while it lives.
pub struct Reading(Arc<OrgListings>);

impl Drop for Reading {
    fn drop(&mut self) {
        self.0.reading.fetch_sub(1, Ordering::Relaxed);
    }
}

impl Listings {
    fn org(&self, org: &str) -> Arc<OrgListings> {
        self.orgs
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .entry(org.to_string())
            .or_default()
            .clone()
    }

    /// Registers a reconcile about to read a person of `org`, until the guard drops.
    pub fn reading(&self, org: &str) -> Reading {
        let listings = self.org(org);
        listings.reading.fetch_add(1, Ordering::Relaxed);
        Reading(listings)
    }

    /// Waits for a reconcile slot of `org`, counting the caller as a reader of the org from now
    /// on (queued reconciles are readers to come: they decide whether a listing pays).
    pub async fn enter(&self, org: &str) -> Entered {
        let reading = self.reading(org);
        let slot = self.org(org).slots.clone().acquire_owned().await.ok();
        Entered {
            _reading: reading,
            _slot: slot,
        }
    }

    /// Publishes a listing (drift detection's).
    pub fn publish(&self, org: &str, snapshot: Arc<Snapshot>) {
        *self.org(org).latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(snapshot);
    }

    /// Drops the org's listing when no reconcile of the org is reading or queued, or when it is
    /// too old to be read anyway: drift detection calls it before it lists again, so that two
    /// listings of the org (the last one and the one being read) are not held at once. While
    /// reconciles wait (a cold start, a bulk change) a fresh listing stays: they read from it.
    pub fn release_if_idle(&self, org: &str) -> bool {
        let listings = self.org(org);
        let mut latest = listings.latest.lock().unwrap_or_else(|p| p.into_inner());
        let stale = latest.as_ref().is_some_and(|s| s.at.elapsed() > MAX_AGE);
        if listings.reading.load(Ordering::Relaxed) > 0 && !stale {
            return false;
        }
        latest.take().is_some()
    }

    /// Forgets the org's listing: it proved out of date.
    /// Records that a Webex write for `object` (its backoff key) just ended.
    pub fn note_write(&self, object: &str) {
        let now = jiff::Timestamp::now();
        let mut written = self.written.lock().unwrap_or_else(|p| p.into_inner());
        // Entries older than any usable listing say nothing: keep the map small.
        if written.len() >= 1024 {
            let horizon = now - jiff::SignedDuration::try_from(MAX_AGE).unwrap_or_default();
            written.retain(|_, at| *at > horizon);
        }
        written.insert(object.to_string(), now);
    }

    /// The time a listing must begin after to stand in for `object`: the later of its status
    /// write (`last_synced`) and its last Webex write.
    pub fn not_before(&self, object: &str, last_synced: Option<jiff::Timestamp>) -> Option<jiff::Timestamp> {
        let written = self
            .written
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .get(object)
            .copied();
        last_synced.max(written)
    }

    pub fn invalidate(&self, org: &str) {
        *self.org(org).latest.lock().unwrap_or_else(|p| p.into_inner()) = None;
    }

    /// Drops listings too old to be used (their memory).
    pub fn expire(&self) {
        for listings in self.orgs.lock().unwrap_or_else(|p| p.into_inner()).values() {
            let mut latest = listings.latest.lock().unwrap_or_else(|p| p.into_inner());
            if latest.as_ref().is_some_and(|s| s.at.elapsed() > MAX_AGE) {
                *latest = None;
            }
        }
    }

    fn usable(listings: &OrgListings, not_before: Option<jiff::Timestamp>) -> Option<Arc<Snapshot>> {
        listings
            .latest
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clone()
            .filter(|s| s.fresh(not_before))
    }

    /// The person from a listing, listing the org when more readers wait than the listing
    /// costs. `None`: read the person yourself. The caller holds a [`Reading`] of `org` (or
    /// has [`Listings::enter`]ed it).
    pub async fn lookup(
        &self,
        org: &str,
        client: &WebexClient,
        key: Key<'_>,
        not_before: Option<jiff::Timestamp>,
    ) -> Option<Listed> {
        let listings = self.org(org);
        let snapshot = match Self::usable(&listings, not_before) {
            Some(s) => s,
            None => {
                let known = listings
                    .latest
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .as_ref()
                    .map_or(0, |s| s.people.len());
                let cost = known / PEOPLE_PAGE_SIZE as usize + 1;
                let failed_recently = listings
                    .failed_at
                    .lock()
                    .unwrap_or_else(|p| p.into_inner())
                    .is_some_and(|at| at.elapsed() <= MAX_AGE);
                if failed_recently || listings.reading.load(Ordering::Relaxed) <= cost {
                    return None;
                }
                let _gate = listings.gate.lock().await;
                match Self::usable(&listings, not_before) {
                    Some(s) => s,
                    None => {
                        // The new listing replaces the old one: do not hold both while reading
                        // (readers arriving meanwhile wait at the gate for the new one).
                        listings.latest.lock().unwrap_or_else(|p| p.into_inner()).take();
                        let began = jiff::Timestamp::now();
                        let people = match client.list_people(PEOPLE_PAGE_SIZE).await {
                            Ok(people) => people,
                            Err(error) => {
                                tracing::warn!(org, %error, "could not list the org's people; reading them one by one");
                                *listings.failed_at.lock().unwrap_or_else(|p| p.into_inner()) = Some(Instant::now());
                                return None;
                            }
                        };
                        tracing::debug!(
                            org,
                            people = people.len(),
                            "listed the org's people for waiting reconciles"
                        );
                        let snapshot = Arc::new(Snapshot::new(began, people));
                        *listings.latest.lock().unwrap_or_else(|p| p.into_inner()) = Some(snapshot.clone());
                        snapshot
                    }
                }
            }
        };
        match key {
            Key::Id(id) => snapshot.by_id(id).map(|p| Listed::Found(Box::new(p.clone()))),
            Key::FirstCreate(email) => Some(match snapshot.by_email(email) {
                Some(p) => Listed::Found(Box::new(p.clone())),
                None => Listed::Absent,
            }),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn person(id: &str, email: &str) -> Person {
        Person {
            id: id.into(),
            emails: vec![email.into()],
            ..Default::default()
        }
    }

    #[test]
    fn a_snapshot_finds_by_id_and_email_and_knows_its_age() {
        let began = jiff::Timestamp::now();
        let s = Snapshot::new(began, vec![person("a", "A@x.example"), person("b", "b@x.example")]);
        assert_eq!(s.by_id("b").map(|p| p.id.as_str()), Some("b"));
        assert_eq!(s.by_email("a@X.example").map(|p| p.id.as_str()), Some("a"));
        assert!(s.by_email("c@x.example").is_none());
        assert!(s.fresh(None));
        assert!(s.fresh(Some(began - jiff::SignedDuration::from_secs(1))));
        assert!(
            !s.fresh(Some(began)),
            "a listing that began before the last status write is not used"
        );
    }

    #[test]
    fn a_shared_hash_falls_back_to_a_scan_and_answers_are_checked() {
        let people = vec![person("a", "a@x.example"), person("b", "b@x.example")];
        let mut index = HashIndex::default();
        index.insert("a", 0);
        // Force what a collision looks like: the same hash for a second position.
        let hash = HashIndex::hash("a");
        index.slots.insert(hash, 0);
        index.ambiguous.insert(hash);
        assert_eq!(index.find("a", &people, |p| p.id == "a"), Some(0));
        // A hash pointing at someone else is not taken on trust.
        let mut wrong = HashIndex::default();
        wrong.slots.insert(HashIndex::hash("c"), 1);
        assert_eq!(wrong.find("c", &people, |p| p.id == "c"), None);
        // Two emails of one person are not a collision.
        let mut emails = HashIndex::default();
        emails.insert("a@x.example", 0);
        emails.insert("a@x.example", 0);
        assert!(emails.ambiguous.is_empty());
    }

    #[test]
    fn a_write_newer_than_the_status_moves_the_horizon() {
        let listings = Listings::default();
        let synced = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(30);
        assert_eq!(listings.not_before("WebexUser/ns/a", Some(synced)), Some(synced));
        assert_eq!(listings.not_before("WebexUser/ns/a", None), None);
        listings.note_write("WebexUser/ns/a");
        let after = listings.not_before("WebexUser/ns/a", Some(synced)).expect("a horizon");
        assert!(after > synced);
        // A listing begun before the write no longer stands in for the object.
        let older = Snapshot::new(
            synced + jiff::SignedDuration::from_secs(1),
            vec![person("a", "a@x.example")],
        );
        assert!(!older.fresh(Some(after)));
        // Other objects are not affected.
        assert_eq!(listings.not_before("WebexUser/ns/b", Some(synced)), Some(synced));
    }

    #[test]
    fn an_idle_org_releases_its_listing_a_busy_one_keeps_it() {
        let listings = Listings::default();
        let snapshot = Arc::new(Snapshot::new(jiff::Timestamp::now(), vec![person("a", "a@x.example")]));
        listings.publish("acme", snapshot.clone());
        let reader = listings.reading("acme");
        assert!(!listings.release_if_idle("acme"), "a reconcile reads: kept");
        assert!(Listings::usable(&listings.org("acme"), None).is_some());
        drop(reader);
        assert!(listings.release_if_idle("acme"), "nobody reads: released");
        assert!(Listings::usable(&listings.org("acme"), None).is_none());
        assert!(!listings.release_if_idle("acme"), "nothing left to release");
    }

    #[tokio::test]
    async fn few_readers_read_one_by_one_and_a_published_listing_is_used_until_invalidated() {
        let listings = Listings::default();
        let client = WebexClient::new("http://127.0.0.1:9", crate::webex::client::Token::new("t")).unwrap();
        let _r = listings.reading("acme");
        let found = listings.lookup("acme", &client, Key::Id("a"), None).await;
        assert!(found.is_none(), "one reader: cheaper to read the person");
        listings.publish(
            "acme",
            Arc::new(Snapshot::new(jiff::Timestamp::now(), vec![person("a", "a@x.example")])),
        );
        let found = listings.lookup("acme", &client, Key::Id("a"), None).await;
        assert!(matches!(found, Some(Listed::Found(p)) if p.id == "a"));
        let absent = listings
            .lookup("acme", &client, Key::FirstCreate("new@x.example"), None)
            .await;
        assert!(matches!(absent, Some(Listed::Absent)));
        let unknown_id = listings.lookup("acme", &client, Key::Id("zz"), None).await;
        assert!(unknown_id.is_none(), "an id missing from a listing is read by id");
        listings.invalidate("acme");
        assert!(listings.lookup("acme", &client, Key::Id("a"), None).await.is_none());
    }
}
