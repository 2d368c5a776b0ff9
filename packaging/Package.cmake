# CPack: `cmake --build --preset release --target package` writes build/release/certsync_VERSION_ARCH.deb.
# Included from the top-level CMakeLists.txt (CPack writes its configuration at the top of the build tree).
set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME certsync)
set(CPACK_PACKAGE_VENDOR "The certsync developers")
set(CPACK_PACKAGE_CONTACT "The certsync developers <certsync@example.invalid>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "${PROJECT_DESCRIPTION}")
set(CPACK_PACKAGE_DESCRIPTION
    "certsync reads the S/MIME certificates (userCertificate, userSMIMECertificate) that Active \
Directory or OpenLDAP publishes for its users, judges each one, compares them with what \
Microsoft 365 publishes, and stages a plan of changes for an administrator to approve. A Qt \
desktop console and a headless command line for schedulers.")
set(CPACK_PACKAGE_HOMEPAGE_URL "${PROJECT_HOMEPAGE_URL}")
set(CPACK_STRIP_FILES ON)
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)

set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION admin)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps finds the libraries certsync links; the plugins Qt loads at run time are not
# among them. Debian 12 ships the xcb platform plugin and the OpenSSL TLS backend inside the
# libraries themselves, but the SQLite driver (the state database) is a package of its own.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS "libqt6sql6-sqlite")

include(CPack)
