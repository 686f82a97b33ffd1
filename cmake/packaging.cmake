# The Debian package (SPEC §10): `cmake --build BUILD --target package` makes
# outpost_<version>_<arch>.deb. Only the node and its packaging files are installed (no
# test, bench or fuzz target has an install rule).
install(TARGETS outpost RUNTIME DESTINATION bin)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/outpost.service DESTINATION /lib/systemd/system)
install(FILES ${CMAKE_SOURCE_DIR}/packaging/config.json DESTINATION /etc/outpost)

set(CPACK_GENERATOR DEB)
set(CPACK_PACKAGE_NAME outpost)
set(CPACK_PACKAGE_VERSION ${PROJECT_VERSION})
set(CPACK_PACKAGE_CONTACT "outpost maintainers <maintainers@users.noreply.b-seed-daa5d51e.example>")
set(CPACK_PACKAGE_DESCRIPTION_SUMMARY "store-front edge node that takes orders and never loses them")
# CPack puts the summary first and indents these lines.
set(CPACK_DEBIAN_PACKAGE_DESCRIPTION
    "Terminals post orders over HTTP; the node answers at once from a local SQLite\nfile and forwards events to SNS/SQS and the delivery service when they are\nreachable. Runs as the systemd unit outpost.service, user outpost, with its data\nin /var/lib/outpost.")
set(CPACK_PACKAGING_INSTALL_PREFIX /usr)
set(CPACK_STRIP_FILES ON)
set(CPACK_DEBIAN_FILE_NAME DEB-DEFAULT)
set(CPACK_DEBIAN_PACKAGE_SECTION net)
set(CPACK_DEBIAN_PACKAGE_PRIORITY optional)
# dpkg-shlibdeps appends the shared libraries' packages (libsqlite3, libcurl, libssl, ...);
# adduser is for the postinst.
set(CPACK_DEBIAN_PACKAGE_SHLIBDEPS ON)
set(CPACK_DEBIAN_PACKAGE_DEPENDS adduser)
set(CPACK_DEBIAN_PACKAGE_CONTROL_EXTRA
    ${CMAKE_SOURCE_DIR}/packaging/debian/postinst ${CMAKE_SOURCE_DIR}/packaging/debian/prerm
    ${CMAKE_SOURCE_DIR}/packaging/debian/postrm ${CMAKE_SOURCE_DIR}/packaging/debian/conffiles)
# Scripts 0755 and conffiles 0644 whatever their modes in the checkout.
set(CPACK_DEBIAN_PACKAGE_CONTROL_STRICT_PERMISSION ON)
include(CPack)
