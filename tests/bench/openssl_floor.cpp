// The floor the inventory is measured against: the bare cryptographic work per certificate, on one
// core, with nothing else: d2i_X509, SHA-256 of the DER, X509_verify against the issuer's key.
//   certsync-bench-openssl CORPUS ISSUERS.pem
// CORPUS is certsync-seed's corpus.bin: [u32 big-endian length][DER] for every certificate occurrence.
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

#include <chrono>
#include <cstdio>
#include <fstream>
#include <iterator>
#include <memory>
#include <vector>

namespace {

struct X509Free
{
    void operator()(X509 *x) const noexcept { X509_free(x); }
};
using X509Ptr = std::unique_ptr<X509, X509Free>;
struct BioFree
{
    void operator()(BIO *b) const noexcept { BIO_free(b); }
};

} // namespace

int main(int argc, char *argv[])
{
    if (argc != 3) {
        std::fprintf(stderr, "usage: certsync-bench-openssl CORPUS ISSUERS.pem\n");
        return 2;
    }
    std::ifstream in(argv[1], std::ios::binary);
    const std::vector<unsigned char> corpus((std::istreambuf_iterator<char>(in)),
                                            std::istreambuf_iterator<char>());
    std::vector<X509Ptr> issuers;
    {
        std::unique_ptr<BIO, BioFree> bio(BIO_new_file(argv[2], "r"));
        if (!bio) {
            std::fprintf(stderr, "cannot read %s\n", argv[2]);
            return 1;
        }
        while (X509 *cert = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr))
            issuers.emplace_back(cert);
    }
    EVP_MD *sha256 = EVP_MD_fetch(nullptr, "SHA2-256", nullptr);
    std::size_t offset = 0, count = 0, verified = 0;
    const auto start = std::chrono::steady_clock::now();
    while (offset + 4 <= corpus.size()) {
        const std::size_t length = (std::size_t(corpus[offset]) << 24)
            | (std::size_t(corpus[offset + 1]) << 16) | (std::size_t(corpus[offset + 2]) << 8)
            | corpus[offset + 3];
        offset += 4;
        const unsigned char *p = corpus.data() + offset;
        X509Ptr cert(d2i_X509(nullptr, &p, long(length)));
        unsigned char md[EVP_MAX_MD_SIZE];
        unsigned int mdLength = 0;
        EVP_Digest(corpus.data() + offset, length, md, &mdLength, sha256, nullptr);
        offset += length;
        ++count;
        if (!cert)
            continue;
        for (const X509Ptr &issuer : issuers)
            if (X509_NAME_cmp(X509_get_issuer_name(cert.get()), X509_get_subject_name(issuer.get())) == 0) {
                verified += X509_verify(cert.get(), X509_get0_pubkey(issuer.get())) == 1;
                break;
            }
    }
    const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    EVP_MD_free(sha256);
    std::printf("openssl floor: %zu certificates, %zu verified, %.3f s (%.1f us each)\n", count, verified,
                seconds, count ? seconds * 1e6 / double(count) : 0.0);
    return verified == count ? 0 : 1;
}
