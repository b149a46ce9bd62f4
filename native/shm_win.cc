// Segments on Windows: named file mappings backed by the paging file (shm_win.h). The same
// native surface as the SysV calls in pdsm_shm.cc (src/segments/native.ts), mapped honestly:
//
//  - get(key, size, mode, create, exclusive[, global]): CreateFileMappingW (create) or
//    OpenFileMappingW on `Local\pdsm-<key hex>`, or `Global\pdsm-<key hex>` when `global` is
//    true (creating a Global\ object needs SeCreateGlobalPrivilege, else EACCES). The id is
//    this process's handle-table index; a second get() of the same name in this process
//    returns the same id. `mode` is not enforced: the mapping gets the default security of
//    the process token; stat reports the mode asked at creation (0 when opened, not created).
//    Opening with a size larger than the mapping fails with EINVAL, as shmget does.
//  - stat(id): size is the mapping's exact size (NtQuerySection); attached counts the views
//    THIS process maps (Windows keeps no system-wide count); creatorPid is this process when
//    it created the mapping, else 0; lastPid and uid are 0 (Windows has neither).
//  - remove(id): Windows has no IPC_RMID. remove closes this process's handle; the mapping
//    (and its name) lives on while any process holds a handle or a view, and is destroyed
//    with the last one. Views this process still maps stay valid, as after IPC_RMID; the id
//    is invalid afterwards (EINVAL).
#ifdef _WIN32

#include "shm_win.h"

#include <cstdint>
#include <cstdio>
#include <map>
#include <mutex>
#include <string>

#include "args.h"

namespace pdsm {
namespace win {

namespace {

constexpr double kMaxKey = 4294967295.0;
constexpr double kMaxSafeInteger = 9007199254740991.0;
constexpr double kMaxId = 2147483647.0;

struct Entry {
  HANDLE handle;
  std::wstring name;
  size_t size;
  int mode;          // asked at creation, 0 when opened
  DWORD creatorPid;  // this process when it created the mapping, else 0
  int views;         // views this process maps
};

// Every Node environment (main thread, workers) shares the process's handles.
std::mutex g_mutex;
std::map<int, Entry> g_table;
int g_next_id = 0;

struct WinErrorName {
  DWORD value;
  const char* name;
  const char* posix;
};

// The Win32 errors file-mapping calls return, with the POSIX code libuv gives them.
constexpr WinErrorName kWinErrors[] = {
    {ERROR_FILE_NOT_FOUND, "ERROR_FILE_NOT_FOUND", "ENOENT"},
    {ERROR_PATH_NOT_FOUND, "ERROR_PATH_NOT_FOUND", "ENOENT"},
    {ERROR_ACCESS_DENIED, "ERROR_ACCESS_DENIED", "EACCES"},
    {ERROR_INVALID_HANDLE, "ERROR_INVALID_HANDLE", "EINVAL"},
    {ERROR_NOT_ENOUGH_MEMORY, "ERROR_NOT_ENOUGH_MEMORY", "ENOMEM"},
    {ERROR_OUTOFMEMORY, "ERROR_OUTOFMEMORY", "ENOMEM"},
    {ERROR_INVALID_PARAMETER, "ERROR_INVALID_PARAMETER", "EINVAL"},
    {ERROR_DISK_FULL, "ERROR_DISK_FULL", "ENOSPC"},
    {ERROR_INVALID_NAME, "ERROR_INVALID_NAME", "EINVAL"},
    {ERROR_ALREADY_EXISTS, "ERROR_ALREADY_EXISTS", "EEXIST"},
    {ERROR_INVALID_ADDRESS, "ERROR_INVALID_ADDRESS", "EINVAL"},
    {ERROR_PRIVILEGE_NOT_HELD, "ERROR_PRIVILEGE_NOT_HELD", "EPERM"},
    {ERROR_NO_SYSTEM_RESOURCES, "ERROR_NO_SYSTEM_RESOURCES", "ENOMEM"},
    {ERROR_COMMITMENT_LIMIT, "ERROR_COMMITMENT_LIMIT", "ENOMEM"},
    {ERROR_NOT_ENOUGH_QUOTA, "ERROR_NOT_ENOUGH_QUOTA", "ENOMEM"},
};

std::wstring NameOf(uint32_t key, bool global) {
  wchar_t name[32];
  std::swprintf(name, sizeof name / sizeof name[0], L"%ls\\pdsm-%x", global ? L"Global" : L"Local",
                static_cast<unsigned>(key));
  return name;
}

// The exact size of a mapping (NtQuerySection, SectionBasicInformation; the handle needs
// SECTION_QUERY), or 0 when it cannot be asked.
size_t SectionSize(HANDLE handle) {
  struct SectionBasicInformation {
    PVOID base;
    ULONG attributes;
    LARGE_INTEGER size;
  };
  using NtQuerySectionFn = LONG(WINAPI*)(HANDLE, int, PVOID, ULONG, PULONG);
  static NtQuerySectionFn query = reinterpret_cast<NtQuerySectionFn>(
      reinterpret_cast<void*>(GetProcAddress(GetModuleHandleW(L"ntdll.dll"), "NtQuerySection")));
  if (query == nullptr) return 0;
  SectionBasicInformation info{};
  if (query(handle, 0, &info, sizeof info, nullptr) < 0) return 0;
  return static_cast<size_t>(info.size.QuadPart);
}

// The size, or what a view of the whole mapping spans (whole pages) when Windows will not say.
size_t SizeOf(Napi::Env env, HANDLE handle) {
  size_t size = SectionSize(handle);
  if (size != 0) return size;
  void* view = MapViewOfFile(handle, FILE_MAP_READ, 0, 0, 0);
  if (view == nullptr) ThrowWinError(env, "MapViewOfFile", GetLastError());
  MEMORY_BASIC_INFORMATION mbi{};
  const SIZE_T got = VirtualQuery(view, &mbi, sizeof mbi);
  const DWORD err = GetLastError();
  UnmapViewOfFile(view);
  if (got == 0) ThrowWinError(env, "VirtualQuery", err);
  return mbi.RegionSize;
}

[[noreturn]] void ThrowInvalidId(Napi::Env env, const char* syscall) {
  ThrowWinError(env, syscall, ERROR_INVALID_HANDLE);
}

int IdArg(const Napi::CallbackInfo& info) {
  return static_cast<int>(IntegerArg(info, 0, "id", 0, kMaxId));
}

}  // namespace

void ThrowWinError(Napi::Env env, const char* syscall, DWORD err) {
  const char* name = "UNKNOWN";
  const char* posix = nullptr;
  for (const WinErrorName& entry : kWinErrors) {
    if (entry.value == err) {
      name = entry.name;
      posix = entry.posix;
      break;
    }
  }
  const char* code = posix != nullptr ? posix : name;
  char text[512] = "";
  DWORD n = FormatMessageA(FORMAT_MESSAGE_FROM_SYSTEM | FORMAT_MESSAGE_IGNORE_INSERTS, nullptr, err,
                           MAKELANGID(LANG_ENGLISH, SUBLANG_DEFAULT), text, sizeof text, nullptr);
  while (n > 0 &&
         (text[n - 1] == '\n' || text[n - 1] == '\r' || text[n - 1] == ' ' || text[n - 1] == '.')) {
    text[--n] = '\0';
  }
  std::string message = std::string(syscall) + " " + code + ": " +
                        (n > 0 ? text : "Unknown error") + " (" + name + " " + std::to_string(err) +
                        ")";
  Napi::Error error = Napi::Error::New(env, message);
  error.Set("code", Napi::String::New(env, code));
  error.Set("errno", Napi::Number::New(env, static_cast<double>(err)));
  error.Set("winCode", Napi::String::New(env, name));
  error.Set("syscall", Napi::String::New(env, syscall));
  throw error;
}

Napi::Value Get(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const double keyArg = IntegerArg(info, 0, "key", 0, kMaxKey);
  const double sizeArg = IntegerArg(info, 1, "size", 0, kMaxSafeInteger);
  const int mode = static_cast<int>(IntegerArg(info, 2, "mode", 0, 0777));
  const bool create = BooleanArg(info, 3, "create");
  const bool exclusive = BooleanArg(info, 4, "exclusive");
  // Optional: the Global\ namespace instead of the session's Local\ one.
  const bool global = info.Length() > 5 && !info[5].IsUndefined() && BooleanArg(info, 5, "global");
  const size_t size = static_cast<size_t>(sizeArg);
  const std::wstring name = NameOf(static_cast<uint32_t>(keyArg), global);

  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto& [id, entry] : g_table) {
    if (entry.name != name) continue;
    // This process holds it open, so it exists.
    const char* syscall = create ? "CreateFileMappingW" : "OpenFileMappingW";
    if (create && exclusive) ThrowWinError(env, syscall, ERROR_ALREADY_EXISTS);
    if (size > entry.size) ThrowWinError(env, syscall, ERROR_INVALID_PARAMETER);
    return Napi::Number::New(env, id);
  }

  HANDLE handle = nullptr;
  bool created = false;
  const char* syscall = "OpenFileMappingW";
  if (create) {
    syscall = "CreateFileMappingW";
    const uint64_t size64 = size;
    handle = CreateFileMappingW(INVALID_HANDLE_VALUE, nullptr, PAGE_READWRITE,
                                static_cast<DWORD>(size64 >> 32), static_cast<DWORD>(size64),
                                name.c_str());
    if (handle == nullptr) ThrowWinError(env, syscall, GetLastError());
    created = GetLastError() != ERROR_ALREADY_EXISTS;
    if (!created && exclusive) {
      CloseHandle(handle);
      ThrowWinError(env, syscall, ERROR_ALREADY_EXISTS);
    }
  } else {
    handle = OpenFileMappingW(SECTION_QUERY | FILE_MAP_READ | FILE_MAP_WRITE, FALSE, name.c_str());
    // Readable but not writable for us: open it for reading (attach(id, true) works).
    if (handle == nullptr && GetLastError() == ERROR_ACCESS_DENIED) {
      handle = OpenFileMappingW(SECTION_QUERY | FILE_MAP_READ, FALSE, name.c_str());
    }
    if (handle == nullptr) ThrowWinError(env, syscall, GetLastError());
  }

  size_t actual = 0;
  try {
    actual = SizeOf(env, handle);
  } catch (...) {
    CloseHandle(handle);
    throw;
  }
  if (size > actual) {
    CloseHandle(handle);
    ThrowWinError(env, syscall, ERROR_INVALID_PARAMETER);
  }
  const int id = g_next_id++;
  g_table[id] =
      Entry{handle, name, actual, created ? mode : 0, created ? GetCurrentProcessId() : 0, 0};
  return Napi::Number::New(env, id);
}

Napi::Value Stat(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int id = IdArg(info);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_table.find(id);
  if (it == g_table.end()) ThrowInvalidId(env, "NtQuerySection");
  const Entry& entry = it->second;
  Napi::Object result = Napi::Object::New(env);
  result.Set("size", Napi::Number::New(env, static_cast<double>(entry.size)));
  result.Set("attached", Napi::Number::New(env, entry.views));
  result.Set("creatorPid", Napi::Number::New(env, static_cast<double>(entry.creatorPid)));
  result.Set("lastPid", Napi::Number::New(env, 0));
  result.Set("mode", Napi::Number::New(env, entry.mode));
  result.Set("uid", Napi::Number::New(env, 0));
  return result;
}

Napi::Value Remove(const Napi::CallbackInfo& info) {
  Napi::Env env = info.Env();
  const int id = IdArg(info);
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_table.find(id);
  if (it == g_table.end()) ThrowInvalidId(env, "CloseHandle");
  HANDLE handle = it->second.handle;
  g_table.erase(it);
  if (!CloseHandle(handle)) ThrowWinError(env, "CloseHandle", GetLastError());
  return env.Undefined();
}

HANDLE HandleOf(Napi::Env env, int id, size_t* size) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_table.find(id);
  if (it == g_table.end()) ThrowInvalidId(env, "MapViewOfFile");
  *size = it->second.size;
  return it->second.handle;
}

void CountView(int id, int delta) {
  std::lock_guard<std::mutex> lock(g_mutex);
  auto it = g_table.find(id);
  if (it != g_table.end()) it->second.views += delta;
}

}  // namespace win
}  // namespace pdsm

#endif  // _WIN32
