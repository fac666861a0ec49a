// DCMTK's own log (oflog, a log4cplus) into radlink's: a line DCMTK writes
// ("Association Release Failed", "PixelData encountered") gets radlink's
// time, level and event instead of reaching stderr raw. DCMTK's lines are
// chatter beside what radlink says of the same failure, and may quote a
// dataset's values: they go at debug, a fatal one at warning.
#include <mutex>
#include <string>

#include "dcmtk/config/osconfig.h"
#include "dcmtk/oflog/oflog.h"
#include "dcmtk/oflog/appender.h"
#include "dcmtk/oflog/spi/logevent.h"

#include "oflog.h"
extern "C" {
#include "radlink/log.h"
}

namespace rl_dicom {

namespace {

class to_radlink : public dcmtk::log4cplus::Appender {
public:
    ~to_radlink() override { destructorImpl(); }
    void close() override {}

protected:
    void append(const dcmtk::log4cplus::spi::InternalLoggingEvent &ev) override
    {
        // one event a line, as every line of radlink's log: a dump's line
        // breaks become spaces, its quotes apostrophes
        std::string text = ev.getMessage().c_str();
        for (char &c : text)
            if (c == '\r' || c == '\n')
                c = ' ';
            else if (c == '"')
                c = '\'';
        if (ev.getLogLevel() >= dcmtk::log4cplus::FATAL_LOG_LEVEL)
            log_warn("dicom.dcmtk", "logger=%s text=\"%s\"", ev.getLoggerName().c_str(),
                     text.c_str());
        else
            log_debug("dicom.dcmtk", "logger=%s text=\"%s\"", ev.getLoggerName().c_str(),
                      text.c_str());
    }
};

} // namespace

void dcmtk_log_into_radlink()
{
    static std::once_flag once;
    std::call_once(once, [] {
        dcmtk::log4cplus::Logger root = dcmtk::log4cplus::Logger::getRoot();
        root.removeAllAppenders();
        root.addAppender(dcmtk::log4cplus::SharedAppenderPtr(new to_radlink()));
        /* below warning DCMTK writes per PDU: only when radlink debugs */
        root.setLogLevel(log_get_level() >= LOG_DEBUG ? dcmtk::log4cplus::INFO_LOG_LEVEL
                                                      : dcmtk::log4cplus::WARN_LOG_LEVEL);
    });
}

} // namespace rl_dicom
