//! Cyclone DDS itself, the C library rmw_cyclonedds_cpp is built on, in this process
//! through the `cyclors` crate (feature `dds`). Only what ipc-lab needs: a participant, and
//! readers and writers that move CDR bytes ipc-lab wrote itself. The topics use the
//! "blob" type of cyclors (cyclocut/src/cdds_blob.c), which keeps the bytes as they are:
//! no second serializer, and no knowledge of the type beyond its name.
//!
//! What Cyclone does with the bytes after [`Writer::write`] (its own copy into a sample,
//! fragmenting, resending) and before [`Reader::take`] (reassembly into its own buffer)
//! happens inside the middleware: ipc-lab can count its own copies around it, not those.

use std::ffi::{CStr, CString};
use std::fmt;
use std::ptr;
use std::time::{Duration, Instant};

use cyclors as c;

use super::graph::Gid;
use super::qos::{DdsDurability, DdsHistory, DdsQos, DdsReliability, PARTICIPANT_USER_DATA};

/// A call into Cyclone that failed, with Cyclone's own words for why.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DdsError {
    /// The C function that failed.
    pub call: &'static str,
    /// `dds_strretcode` of its return code.
    pub reason: String,
}

impl fmt::Display for DdsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} failed: {}", self.call, self.reason)
    }
}

impl std::error::Error for DdsError {}

/// A negative return is an error code; anything else is a handle or a count.
fn check(call: &'static str, ret: i32) -> Result<i32, DdsError> {
    if ret >= 0 {
        return Ok(ret);
    }
    // SAFETY: dds_strretcode returns a pointer to a static, NUL-terminated string.
    let reason = unsafe { CStr::from_ptr(c::dds_strretcode(ret)) }.to_string_lossy().into_owned();
    Err(DdsError { call, reason })
}

/// A DDS entity, deleted (with everything it contains) when dropped.
#[derive(Debug)]
struct Entity(c::dds_entity_t);

impl Drop for Entity {
    fn drop(&mut self) {
        // SAFETY: the handle came from a successful create call and is deleted once.
        unsafe { c::dds_delete(self.0) };
    }
}

/// A `dds_qos_t` built from [`DdsQos`], freed when dropped.
struct Qos(*mut c::dds_qos_t);

impl Qos {
    fn user_data_only(user_data: &str) -> Self {
        // SAFETY: dds_create_qos returns a new QoS object that we own.
        let qos = Qos(unsafe { c::dds_create_qos() });
        // SAFETY: the pointer and length describe `user_data`, which Cyclone copies.
        unsafe { c::dds_qset_userdata(qos.0, user_data.as_ptr().cast(), user_data.len()) };
        qos
    }

    /// The policies rmw_cyclonedds sets (see [`super::qos`]), plus XCDR1 as the only data
    /// representation, as its sertype allows (rmw_cyclonedds_cpp/src/serdata.cpp line 707,
    /// jazzy).
    fn from(qos: &DdsQos) -> Self {
        let q = Self::user_data_only(&qos.user_data);
        let (kind, depth) = match qos.history {
            DdsHistory::KeepLast(depth) => (c::dds_history_kind_DDS_HISTORY_KEEP_LAST, depth),
            DdsHistory::KeepAll => (c::dds_history_kind_DDS_HISTORY_KEEP_ALL, c::DDS_LENGTH_UNLIMITED),
        };
        let xcdr1 = c::DDS_DATA_REPRESENTATION_XCDR1 as c::dds_data_representation_id_t;
        // SAFETY: q.0 is a valid QoS object; every value is plain data.
        unsafe {
            c::dds_qset_writer_data_lifecycle(q.0, qos.autodispose);
            c::dds_qset_history(q.0, kind, depth);
            match qos.reliability {
                DdsReliability::Reliable => {
                    c::dds_qset_reliability(q.0, c::dds_reliability_kind_DDS_RELIABILITY_RELIABLE, i64::MAX)
                }
                DdsReliability::BestEffort => {
                    c::dds_qset_reliability(q.0, c::dds_reliability_kind_DDS_RELIABILITY_BEST_EFFORT, 0)
                }
            }
            match qos.durability {
                DdsDurability::Volatile => c::dds_qset_durability(q.0, c::dds_durability_kind_DDS_DURABILITY_VOLATILE),
                DdsDurability::TransientLocal => {
                    c::dds_qset_durability(q.0, c::dds_durability_kind_DDS_DURABILITY_TRANSIENT_LOCAL);
                    let unlimited = c::DDS_LENGTH_UNLIMITED;
                    c::dds_qset_durability_service(q.0, 0, kind, depth, unlimited, unlimited, unlimited);
                }
            }
            // DDS_INFINITY is INT64_MAX.
            c::dds_qset_liveliness(q.0, c::dds_liveliness_kind_DDS_LIVELINESS_AUTOMATIC, i64::MAX);
            if qos.ignore_local {
                c::dds_qset_ignorelocal(q.0, c::dds_ignorelocal_kind_DDS_IGNORELOCAL_PARTICIPANT);
            }
            c::dds_qset_data_representation(q.0, 1, &xcdr1);
        }
        q
    }
}

impl Drop for Qos {
    fn drop(&mut self) {
        // SAFETY: created by dds_create_qos, freed once.
        unsafe { c::dds_delete_qos(self.0) };
    }
}

/// A DDS domain of this process made with a configuration given here rather than read
/// from `CYCLONEDDS_URI`: the participants this process creates in it use that
/// configuration while the domain lives (dropping it deletes them).
#[derive(Debug)]
pub struct Domain {
    _entity: Entity,
}

impl Domain {
    /// Creates domain `id` with the XML `config`; fails if this process already has it.
    pub fn create(id: u32, config: &str) -> Result<Self, DdsError> {
        let config = CString::new(config)
            .map_err(|_| DdsError { call: "dds_create_domain", reason: "the configuration contains NUL".into() })?;
        // SAFETY: the string outlives the call, which parses it.
        let handle = unsafe { c::dds_create_domain(id, config.as_ptr()) };
        Ok(Self { _entity: Entity(check("dds_create_domain", handle)?) })
    }
}

/// One DDS participant: what a ROS 2 context is on DDS.
#[derive(Debug)]
pub struct Participant {
    entity: Entity,
}

impl Participant {
    /// Joins DDS domain `domain` (`ROS_DOMAIN_ID`), with ROS's participant user data.
    pub fn new(domain: u32) -> Result<Self, DdsError> {
        let qos = Qos::user_data_only(PARTICIPANT_USER_DATA);
        // SAFETY: qos is valid for the call; no listener.
        let handle = unsafe { c::dds_create_participant(domain, qos.0, ptr::null()) };
        Ok(Self { entity: Entity(check("dds_create_participant", handle)?) })
    }

    /// The participant's GUID, which the ROS graph names it by.
    pub fn gid(&self) -> Result<Gid, DdsError> {
        gid_of(self.entity.0)
    }

    /// A topic carrying bytes: one per reader or writer (Cyclone shares the definition).
    fn topic(&self, topic: &str, type_name: &str) -> Result<Entity, DdsError> {
        let bad = |_| DdsError { call: "cdds_create_blob_topic", reason: "a name contains NUL".into() };
        let topic = CString::new(topic).map_err(bad)?;
        let type_name = CString::new(type_name).map_err(bad)?;
        // SAFETY: both strings outlive the call, which copies them; ROS topics are keyless.
        let handle = unsafe {
            c::cdds_create_blob_topic(self.entity.0, topic.as_ptr().cast_mut(), type_name.as_ptr().cast_mut(), true)
        };
        Ok(Entity(check("cdds_create_blob_topic", handle)?))
    }

    /// A writer of `topic` (a DDS name: `rt/number`) with type `type_name` (a DDS name).
    pub fn writer(&self, topic: &str, type_name: &str, qos: &DdsQos) -> Result<Writer, DdsError> {
        let topic = self.topic(topic, type_name)?;
        let qos = Qos::from(qos);
        // SAFETY: participant and topic are live handles; qos is valid for the call.
        let handle = unsafe { c::dds_create_writer(self.entity.0, topic.0, qos.0, ptr::null()) };
        let entity = Entity(check("dds_create_writer", handle)?);
        let mut sertype = ptr::null();
        // SAFETY: the writer is live; Cyclone stores a pointer it keeps alive with the topic.
        check("dds_get_entity_sertype", unsafe { c::dds_get_entity_sertype(entity.0, &mut sertype) })?;
        Ok(Writer { entity, _topic: topic, sertype })
    }

    /// A reader of `topic` with type `type_name` (DDS names).
    pub fn reader(&self, topic: &str, type_name: &str, qos: &DdsQos) -> Result<Reader, DdsError> {
        let topic = self.topic(topic, type_name)?;
        let qos = Qos::from(qos);
        // SAFETY: as for the writer.
        let handle = unsafe { c::dds_create_reader(self.entity.0, topic.0, qos.0, ptr::null()) };
        let entity = Entity(check("dds_create_reader", handle)?);
        // A waitset that wakes when a sample arrives, so a receiving thread can sleep.
        // SAFETY: live handles; the condition and waitset belong to the reader/participant.
        let condition =
            check("dds_create_readcondition", unsafe { c::dds_create_readcondition(entity.0, c::DDS_ANY_STATE) })?;
        let waitset = Entity(check("dds_create_waitset", unsafe { c::dds_create_waitset(self.entity.0) })?);
        check("dds_waitset_attach", unsafe { c::dds_waitset_attach(waitset.0, condition, 0) })?;
        Ok(Reader { entity, _topic: topic, waitset })
    }
}

/// `DDS_BUILTIN_TOPIC_DCPSPUBLICATION`, the pseudo handle of the built-in topic that lists
/// the writers discovery found (ddsc/include/dds/dds.h line 156 and
/// dds/ddsc/dds_basic_types.h line 37, Cyclone 11.0): a C macro bindgen does not carry over.
const DCPS_PUBLICATION: c::dds_entity_t = 0x7fff_0000 + 3;

impl Participant {
    /// A reader of the writers DDS discovery finds in the domain (DCPSPublication), as
    /// `ros2 topic list -t` learns topics and types.
    pub fn publications(&self) -> Result<Publications, DdsError> {
        // SAFETY: a live participant and Cyclone's own built-in topic; default QoS.
        let handle = unsafe { c::dds_create_reader(self.entity.0, DCPS_PUBLICATION, ptr::null(), ptr::null()) };
        let reader = Entity(check("dds_create_reader", handle)?);
        Ok(Publications { reader, own: self.gid()? })
    }
}

/// The writers discovery has found, kept by Cyclone in a built-in reader.
#[derive(Debug)]
pub struct Publications {
    reader: Entity,
    /// This participant: its own writers are not "discovered".
    own: Gid,
}

/// A writer of another participant, as discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DiscoveredWriter {
    /// Its DDS topic (`rt/number`).
    pub topic: String,
    /// Its DDS type name (`std_msgs::msg::dds_::Int32_`).
    pub type_name: String,
    /// Whether it offers reliable delivery (a best-effort writer cannot serve a reliable
    /// reader).
    pub reliable: bool,
}

impl Publications {
    /// The writers of other participants alive now (at most 256: a teaching domain).
    pub fn alive(&self) -> Result<Vec<DiscoveredWriter>, DdsError> {
        const MAX: usize = 256;
        let mut samples = vec![ptr::null_mut::<std::ffi::c_void>(); MAX];
        // SAFETY: zeroed sample infos are valid out-parameters.
        let mut infos: Vec<c::dds_sample_info_t> = (0..MAX).map(|_| unsafe { std::mem::zeroed() }).collect();
        let mask = c::DDS_ANY_SAMPLE_STATE | c::DDS_ANY_VIEW_STATE | c::DDS_ALIVE_INSTANCE_STATE;
        // SAFETY: room for MAX samples and infos; a null first pointer asks Cyclone to lend
        // its own buffers, given back below.
        let n = check("dds_read_mask", unsafe {
            c::dds_read_mask(self.reader.0, samples.as_mut_ptr(), infos.as_mut_ptr(), MAX, MAX as u32, mask)
        })?;
        let mut writers = Vec::new();
        for (sample, info) in samples.iter().zip(&infos).take(n as usize) {
            if !info.valid_data {
                continue;
            }
            // SAFETY: a valid sample of the DCPSPublication topic, lent until the return.
            let endpoint = unsafe { &*sample.cast::<c::dds_builtintopic_endpoint_t>() };
            if Gid(endpoint.participant_key.v) == self.own {
                continue;
            }
            // SAFETY: the names are NUL-terminated strings of the lent sample.
            let name = |s: *mut std::ffi::c_char| unsafe { CStr::from_ptr(s) }.to_string_lossy().into_owned();
            writers.push(DiscoveredWriter {
                topic: name(endpoint.topic_name),
                type_name: name(endpoint.type_name),
                // SAFETY: the sample's QoS, valid until the return.
                reliable: unsafe { reliable(endpoint.qos) },
            });
        }
        if n > 0 {
            // SAFETY: gives back exactly the loan dds_read_mask made.
            unsafe { c::dds_return_loan(self.reader.0, samples.as_mut_ptr(), n) };
        }
        Ok(writers)
    }
}

/// Whether a discovered QoS says reliable (DDS's default for a writer when unset).
///
/// SAFETY: `qos` must be null or a valid QoS.
unsafe fn reliable(qos: *const c::dds_qos_t) -> bool {
    let mut kind = c::dds_reliability_kind_DDS_RELIABILITY_RELIABLE;
    let mut blocking = 0;
    if !qos.is_null() {
        c::dds_qget_reliability(qos, &mut kind, &mut blocking);
    }
    kind == c::dds_reliability_kind_DDS_RELIABILITY_RELIABLE
}

fn gid_of(entity: c::dds_entity_t) -> Result<Gid, DdsError> {
    let mut guid = c::dds_guid_t { v: [0; 16] };
    // SAFETY: a live handle and a place for 16 bytes.
    check("dds_get_guid", unsafe { c::dds_get_guid(entity, &mut guid) })?;
    Ok(Gid(guid.v))
}

/// A DDS writer of bytes.
#[derive(Debug)]
pub struct Writer {
    entity: Entity,
    /// Kept so the topic is deleted after the writer.
    _topic: Entity,
    /// The blob type, to wrap bytes in Cyclone's sample type.
    sertype: *const c::ddsi_sertype,
}

// SAFETY: Cyclone's entities are handles usable from any thread; the sertype is immutable
// and lives as long as the topic we hold.
unsafe impl Send for Writer {}
// SAFETY: as above: dds_writecdr may be called from several threads at once.
unsafe impl Sync for Writer {}

impl Writer {
    /// The writer's GUID, for the ROS graph.
    pub fn gid(&self) -> Result<Gid, DdsError> {
        gid_of(self.entity.0)
    }

    /// Hands one complete CDR encoding (header included) to Cyclone, followed by the zeros
    /// that pad it to a multiple of 4 (see [`super::padded`]) as a second piece, so that
    /// ipc-lab copies nothing to pad. Cyclone copies both into its own sample here: a copy
    /// inside the middleware.
    pub fn write(&self, cdr: &[u8]) -> Result<(), DdsError> {
        const ZEROS: [u8; 3] = [0; 3];
        let pad = cdr.len().next_multiple_of(4) - cdr.len();
        let iov = [
            c::ddsrt_iovec_t { iov_base: cdr.as_ptr().cast_mut().cast(), iov_len: cdr.len() },
            c::ddsrt_iovec_t { iov_base: ZEROS.as_ptr().cast_mut().cast(), iov_len: pad },
        ];
        let pieces = if pad == 0 { 1 } else { 2 };
        // SAFETY: iov points into `cdr` and a static, which outlive the call; the blob type
        // copies them.
        let serdata = unsafe {
            c::ddsi_serdata_from_ser_iov(
                self.sertype,
                c::ddsi_serdata_kind_SDK_DATA,
                pieces,
                iov.as_ptr(),
                cdr.len() + pad,
            )
        };
        if serdata.is_null() {
            return Err(DdsError { call: "ddsi_serdata_from_ser_iov", reason: "out of memory".into() });
        }
        // SAFETY: dds_writecdr takes over our reference to serdata, even when it fails.
        check("dds_writecdr", unsafe { c::dds_writecdr(self.entity.0, serdata) }).map(drop)
    }

    /// How many readers this writer has found (a peer that discovered us).
    pub fn matched_readers(&self) -> Result<u32, DdsError> {
        // SAFETY: a status of plain integers, all zero, is valid.
        let mut status: c::dds_publication_matched_status_t = unsafe { std::mem::zeroed() };
        // SAFETY: a live writer and a place for the status.
        check("dds_get_publication_matched_status", unsafe {
            c::dds_get_publication_matched_status(self.entity.0, &mut status)
        })?;
        Ok(status.current_count)
    }

    /// The readers found but not served because they ask for more than this writer's QoS
    /// offers (a reliable reader of a best-effort writer), if any.
    pub fn incompatible_qos(&self) -> Result<Option<IncompatibleQos>, DdsError> {
        // SAFETY: a status of plain integers, all zero, is valid.
        let mut status: c::dds_offered_incompatible_qos_status_t = unsafe { std::mem::zeroed() };
        // SAFETY: a live writer and a place for the status.
        check("dds_get_offered_incompatible_qos_status", unsafe {
            c::dds_get_offered_incompatible_qos_status(self.entity.0, &mut status)
        })?;
        Ok((status.total_count > 0)
            .then(|| IncompatibleQos { count: status.total_count, policy: policy_name(status.last_policy_id) }))
    }
}

/// A DDS reader of bytes.
#[derive(Debug)]
pub struct Reader {
    entity: Entity,
    _topic: Entity,
    /// Wakes [`Reader::take`] when a sample arrives.
    waitset: Entity,
}

impl Reader {
    /// The reader's GUID, for the ROS graph.
    pub fn gid(&self) -> Result<Gid, DdsError> {
        gid_of(self.entity.0)
    }

    /// The next sample's bytes, waiting up to `timeout` for one; `None` if none came.
    /// The bytes are copied out of Cyclone's buffer into a new `Vec`: ipc-lab's copy.
    pub fn take(&self, timeout: Duration) -> Result<Option<Vec<u8>>, DdsError> {
        let deadline = Instant::now() + timeout;
        loop {
            if let Some(bytes) = self.try_take()? {
                return Ok(Some(bytes));
            }
            // A wake-up may bring no data (a writer went away): wait again until the deadline.
            let left = deadline.saturating_duration_since(Instant::now());
            if left.is_zero() {
                return Ok(None);
            }
            let nanos = i64::try_from(left.as_nanos()).unwrap_or(i64::MAX);
            // SAFETY: a live waitset; no attachment array is asked for.
            check("dds_waitset_wait", unsafe { c::dds_waitset_wait(self.waitset.0, ptr::null_mut(), 0, nanos) })?;
        }
    }

    fn try_take(&self) -> Result<Option<Vec<u8>>, DdsError> {
        loop {
            let mut serdata: *mut c::ddsi_serdata = ptr::null_mut();
            // SAFETY: zeroed sample info is a valid out-parameter.
            let mut info: c::dds_sample_info_t = unsafe { std::mem::zeroed() };
            // SAFETY: room for one serdata pointer and one info.
            let n = check("dds_takecdr", unsafe {
                c::dds_takecdr(self.entity.0, &mut serdata, 1, &mut info, c::DDS_ANY_STATE)
            })?;
            if n == 0 {
                return Ok(None);
            }
            // SAFETY: dds_takecdr gave us one reference to serdata, released in copy_out.
            let bytes = unsafe { copy_out(serdata) };
            // A writer going away arrives as a sample without data: skip it.
            if info.valid_data {
                return Ok(Some(bytes));
            }
        }
    }
}

/// A writer a reader has matched, as DDS discovery describes it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MatchedWriter {
    /// Its GUID.
    pub gid: Gid,
    /// Its DDS type name (the same as ours, or Cyclone would not have matched it).
    pub type_name: String,
    /// Its user data: `typehash=...;` from ROS 2 Iron and later.
    pub user_data: Vec<u8>,
}

/// The endpoints of the other side found but not matched: the writer's QoS offers less
/// than the reader asks (a best-effort writer and a reliable reader). Cyclone counts them
/// on both sides: writers on a reader ("requested"), readers on a writer ("offered").
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct IncompatibleQos {
    /// How many so far.
    pub count: u32,
    /// The last policy that did not match, by its DDS name.
    pub policy: &'static str,
}

impl Reader {
    /// The writers this reader hears now.
    pub fn matched_writers(&self) -> Result<Vec<MatchedWriter>, DdsError> {
        let mut handles = [0; 64];
        // SAFETY: room for 64 handles; Cyclone writes at most that many.
        let n = check("dds_get_matched_publications", unsafe {
            c::dds_get_matched_publications(self.entity.0, handles.as_mut_ptr(), handles.len())
        })?;
        let mut writers = Vec::new();
        for &handle in &handles[..(n as usize).min(handles.len())] {
            // SAFETY: a handle Cyclone just gave; the result is ours to free (null if the
            // writer went away meanwhile).
            let data = unsafe { c::dds_get_matched_publication_data(self.entity.0, handle) };
            if data.is_null() {
                continue;
            }
            // SAFETY: a valid endpoint description until freed below.
            writers.push(unsafe { describe(&*data) });
            // SAFETY: freed once, as the API asks.
            unsafe { c::dds_builtintopic_free_endpoint(data) };
        }
        Ok(writers)
    }

    /// The writers found but not heard because of their QoS, if any.
    pub fn incompatible_qos(&self) -> Result<Option<IncompatibleQos>, DdsError> {
        // SAFETY: a status of plain integers, all zero, is valid.
        let mut status: c::dds_requested_incompatible_qos_status_t = unsafe { std::mem::zeroed() };
        // SAFETY: a live reader and a place for the status.
        check("dds_get_requested_incompatible_qos_status", unsafe {
            c::dds_get_requested_incompatible_qos_status(self.entity.0, &mut status)
        })?;
        Ok((status.total_count > 0)
            .then(|| IncompatibleQos { count: status.total_count, policy: policy_name(status.last_policy_id) }))
    }
}

/// DDS's names of the policies a reader and a writer must agree on.
fn policy_name(id: u32) -> &'static str {
    match id {
        c::dds_qos_policy_id_DDS_RELIABILITY_QOS_POLICY_ID => "reliability",
        c::dds_qos_policy_id_DDS_DURABILITY_QOS_POLICY_ID => "durability",
        c::dds_qos_policy_id_DDS_DEADLINE_QOS_POLICY_ID => "deadline",
        c::dds_qos_policy_id_DDS_LIVELINESS_QOS_POLICY_ID => "liveliness",
        c::dds_qos_policy_id_DDS_DATA_REPRESENTATION_QOS_POLICY_ID => "data representation",
        _ => "another policy",
    }
}

/// What a matched endpoint's description says.
///
/// SAFETY: `data` must be a valid description from Cyclone.
unsafe fn describe(data: &c::dds_builtintopic_endpoint_t) -> MatchedWriter {
    let type_name = CStr::from_ptr(data.type_name).to_string_lossy().into_owned();
    let mut value = ptr::null_mut();
    let mut size = 0;
    let user_data = if c::dds_qget_userdata(data.qos, &mut value, &mut size) && !value.is_null() {
        let bytes = std::slice::from_raw_parts(value.cast::<u8>(), size).to_vec();
        c::dds_free(value);
        bytes
    } else {
        Vec::new()
    };
    MatchedWriter { gid: Gid(data.key.v), type_name, user_data }
}

/// Copies a serdata's bytes into a new `Vec` and drops our reference to it.
///
/// SAFETY: `serdata` must be a valid serdata whose reference the caller owns.
unsafe fn copy_out(serdata: *mut c::ddsi_serdata) -> Vec<u8> {
    let size = c::ddsi_serdata_size(serdata) as usize;
    let mut iov = c::ddsrt_iovec_t { iov_base: ptr::null_mut(), iov_len: 0 };
    let held = c::ddsi_serdata_to_ser_ref(serdata, 0, size, &mut iov);
    // A sample without data (a writer going away) has no buffer at all: a null pointer is
    // no slice, even of length 0.
    let bytes = if iov.iov_base.is_null() || iov.iov_len == 0 {
        Vec::new()
    } else {
        std::slice::from_raw_parts(iov.iov_base.cast::<u8>(), iov.iov_len).to_vec()
    };
    c::ddsi_serdata_to_ser_unref(held, &iov);
    c::ddsi_serdata_unref(serdata);
    bytes
}
