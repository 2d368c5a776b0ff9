// libFuzzer target: one LDAP search result entry, decoded by the reader's own decodeSearchEntry.
// The fuzz bytes are the content of a SearchResultEntry ([APPLICATION 4]: the DN and the attribute
// list); liblber wraps them in an LDAPMessage envelope that is written into one end of a socket
// pair, and libldap reads it from the other end as it would read a server's answer. The message
// the reader decodes is therefore the one libldap makes, not a copy of its internals.
#include "directory/LdapConnection.h"

#include "FuzzSupport.h"

#include <lber.h>
#include <ldap.h>
#include <openldap.h>
#include <sys/socket.h>
#include <unistd.h>

#include <cstddef>
#include <cstdint>
#include <cstdio>
#include <cstdlib>

using namespace certsync::directory;

namespace {

struct Fd
{
    int fd = -1;
    ~Fd()
    {
        if (fd >= 0)
            close(fd);
    }
};

// The envelope: SEQUENCE { messageID INTEGER, [APPLICATION 4] <the fuzz bytes> }.
QByteArray envelope(int msgid, const uint8_t *data, size_t size)
{
    BerElement *ber = ber_alloc_t(LBER_USE_DER);
    check(ber != nullptr, "ber_alloc_t");
    check(ber_printf(ber, "{ito}", ber_int_t(msgid), ber_tag_t(LDAP_RES_SEARCH_ENTRY),
                     reinterpret_cast<const char *>(data), ber_len_t(size))
              != -1,
          "ber_printf");
    berval *flat = nullptr;
    check(ber_flatten(ber, &flat) == 0, "ber_flatten");
    QByteArray bytes(flat->bv_val, qsizetype(flat->bv_len));
    ber_bvfree(flat);
    ber_free(ber, 1);
    return bytes;
}

} // namespace

extern "C" int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size > 65536) // more than one socket buffer would need a writer thread
        return -1;
    int fds[2];
    check(socketpair(AF_UNIX, SOCK_STREAM, 0, fds) == 0, "socketpair");
    Fd server { fds[1] };
    LDAP *raw = nullptr;
    check(ldap_init_fd(fds[0], LDAP_PROTO_TCP, "ldap://fuzz.invalid", &raw) == LDAP_SUCCESS, "ldap_init_fd");
    const LdapPtr ld(raw); // closes fds[0]
    const int version = LDAP_VERSION3;
    ldap_set_option(ld.get(), LDAP_OPT_PROTOCOL_VERSION, &version);

    // libldap keeps only answers to requests it sent: send the reader's kind of request first.
    int msgid = 0;
    char base[] = "";
    check(ldap_search_ext(ld.get(), base, LDAP_SCOPE_BASE, nullptr, nullptr, 0, nullptr, nullptr, nullptr, 0,
                          &msgid)
              == LDAP_SUCCESS,
          "ldap_search_ext");
    const QByteArray answer = envelope(msgid, data, size);
    check(write(server.fd, answer.constData(), size_t(answer.size())) == answer.size(), "write");
    shutdown(server.fd, SHUT_WR);

    LDAPMessage *result = nullptr;
    timeval wait { 5, 0 };
    if (ldap_result(ld.get(), msgid, LDAP_MSG_ONE, &wait, &result) <= 0)
        return 0; // libldap refused the envelope's content: nothing reaches the reader
    const LdapMessagePtr message(result);
    for (LDAPMessage *m = ldap_first_message(ld.get(), result); m; m = ldap_next_message(ld.get(), m)) {
        if (ldap_msgtype(m) != LDAP_RES_SEARCH_ENTRY)
            continue;
        const LdapEntry entry = decodeSearchEntry(ld.get(), m);
        // What the snapshot reads of an entry: every value, by every key.
        qsizetype total = entry.dn.size();
        for (const LdapEntry::Attribute &a : entry.attributes) {
            check(a.key == LdapEntry::key(a.key), "an attribute key that is not in lookup form");
            for (const QByteArray &v : entry.values(a.key))
                total += v.size();
        }
        check(total <= qsizetype(size) * 2 + 64, "an entry larger than its message");
    }
    reportLiveHeap();
    return 0;
}
