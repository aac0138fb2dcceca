// Marks one symbol-version requirement of an ELF shared library as weak (VER_FLG_WEAK), so that the
// dynamic loader only warns when the system library does not provide that version.
//
// Why: TorchSharp 0.107's libLibTorchSharp.so asks for GLIBCXX_3.4.32, which Debian 12's libstdc++
// lacks. The only symbol it takes from that version (_ZSt21ios_base_library_initv) has no relocation
// against it, so a weak requirement is safe (see ../shared/PLATFORM.md).
//
// This file is compiled twice: by MSBuild's RoslynCodeTaskFactory as the PatchGlibcxxWeak task
// (Directory.Build.targets), and into the build tests with HEADTRACKER_NO_MSBUILD defined.
#nullable enable
#pragma warning disable IDE0161 // RoslynCodeTaskFactory may compile with an older language version.

using System;
using System.Collections.Generic;
using System.IO;
using System.Text;

namespace HeadTracking.Build
{
    /// <summary>One version requirement read from an ELF file's .gnu.version_r section.</summary>
    public sealed class ElfVersionNeed
    {
        public ElfVersionNeed(string file, string version, ushort flags, long flagsOffset)
        {
            File = file;
            Version = version;
            Flags = flags;
            FlagsOffset = flagsOffset;
        }

        /// <summary>The library that must provide the version, e.g. libstdc++.so.6.</summary>
        public string File { get; }

        /// <summary>The version name, e.g. GLIBCXX_3.4.32.</summary>
        public string Version { get; }

        /// <summary>vna_flags; bit 0x2 is VER_FLG_WEAK.</summary>
        public ushort Flags { get; }

        /// <summary>Byte offset of vna_flags in the file.</summary>
        public long FlagsOffset { get; }

        public bool IsWeak => (Flags & ElfVersionNeeds.VerFlagWeak) != 0;
    }

    /// <summary>Reads and edits the version-needs section of 64-bit little-endian ELF files.</summary>
    public static class ElfVersionNeeds
    {
        public const ushort VerFlagWeak = 0x2;
        private const uint ShtGnuVerneed = 0x6ffffffe;

        /// <summary>Lists every version requirement in <paramref name="elf"/>.</summary>
        /// <exception cref="InvalidDataException">The bytes are not a 64-bit little-endian ELF file
        /// or its version section is out of bounds.</exception>
        public static List<ElfVersionNeed> Read(byte[] elf)
        {
            if (elf.Length < 64 || elf[0] != 0x7f || elf[1] != (byte)'E' || elf[2] != (byte)'L' || elf[3] != (byte)'F')
            {
                throw new InvalidDataException("not an ELF file");
            }

            if (elf[4] != 2 || elf[5] != 1)
            {
                throw new InvalidDataException("not a 64-bit little-endian ELF file");
            }

            long shoff = checked((long)U64(elf, 0x28));
            int shentsize = U16(elf, 0x3A);
            int shnum = U16(elf, 0x3C);
            var result = new List<ElfVersionNeed>();
            for (int i = 0; i < shnum; i++)
            {
                long sh = shoff + ((long)i * shentsize);
                Check(elf, sh, 64, "section header");
                if (U32(elf, sh + 4) != ShtGnuVerneed)
                {
                    continue;
                }

                long offset = checked((long)U64(elf, sh + 0x18));
                uint link = U32(elf, sh + 0x28);
                uint count = U32(elf, sh + 0x2C);
                long strtab = checked((long)U64(elf, shoff + ((long)link * shentsize) + 0x18));

                long vn = offset;
                for (uint n = 0; n < count; n++)
                {
                    Check(elf, vn, 16, "Verneed entry");
                    int auxCount = U16(elf, vn + 2);
                    string file = CString(elf, strtab + U32(elf, vn + 4));
                    long aux = vn + U32(elf, vn + 8);
                    for (int a = 0; a < auxCount; a++)
                    {
                        Check(elf, aux, 16, "Vernaux entry");
                        string name = CString(elf, strtab + U32(elf, aux + 8));
                        result.Add(new ElfVersionNeed(file, name, U16(elf, aux + 4), aux + 4));
                        aux += U32(elf, aux + 12);
                    }

                    uint next = U32(elf, vn + 12);
                    if (next == 0)
                    {
                        break;
                    }

                    vn += next;
                }
            }

            return result;
        }

        /// <summary>Sets VER_FLG_WEAK on the requirement named <paramref name="version"/>.</summary>
        /// <returns>True when a flag changed; false when it was weak already or not required.</returns>
        public static bool MarkWeak(byte[] elf, string version)
        {
            bool changed = false;
            foreach (ElfVersionNeed need in Read(elf))
            {
                if (need.Version == version && !need.IsWeak)
                {
                    ushort flags = (ushort)(need.Flags | VerFlagWeak);
                    elf[need.FlagsOffset] = (byte)(flags & 0xff);
                    elf[need.FlagsOffset + 1] = (byte)(flags >> 8);
                    changed = true;
                }
            }

            return changed;
        }

        /// <summary>True when <paramref name="library"/> defines the version name (it appears as a
        /// NUL-terminated string in its dynamic string table).</summary>
        public static bool Defines(byte[] library, string version)
        {
            byte[] needle = Encoding.ASCII.GetBytes(version + "\0");
            for (int i = 1; i + needle.Length <= library.Length; i++)
            {
                if (library[i - 1] != 0 || library[i] != needle[0])
                {
                    continue;
                }

                int k = 1;
                while (k < needle.Length && library[i + k] == needle[k])
                {
                    k++;
                }

                if (k == needle.Length)
                {
                    return true;
                }
            }

            return false;
        }

        /// <summary>
        /// Marks <paramref name="version"/> weak in the file at <paramref name="path"/>, writing a
        /// temporary file beside it and renaming it over the original, and keeping the original's
        /// timestamp so incremental copies do not see a change. Returns true when the file changed.
        /// </summary>
        public static bool PatchFile(string path, string version)
        {
            byte[] bytes = System.IO.File.ReadAllBytes(path);
            if (!MarkWeak(bytes, version))
            {
                return false;
            }

            DateTime stamp = System.IO.File.GetLastWriteTimeUtc(path);
            string temp = path + ".patching";
            System.IO.File.WriteAllBytes(temp, bytes);
            System.IO.File.SetLastWriteTimeUtc(temp, stamp);
            System.IO.File.Replace(temp, path, null); // a rename: the final name never holds half a file
            System.IO.File.SetLastWriteTimeUtc(path, stamp);
            return true;
        }

        /// <summary>The system's libstdc++.so.6, or null when none of the usual places has it.</summary>
        public static string? FindSystemLibStdCxx()
        {
            string[] candidates =
            {
                "/usr/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/lib/x86_64-linux-gnu/libstdc++.so.6",
                "/usr/lib/aarch64-linux-gnu/libstdc++.so.6",
                "/usr/lib64/libstdc++.so.6",
                "/usr/lib/libstdc++.so.6",
            };
            foreach (string candidate in candidates)
            {
                if (System.IO.File.Exists(candidate))
                {
                    return candidate;
                }
            }

            return null;
        }

        private static void Check(byte[] elf, long offset, int length, string what)
        {
            if (offset < 0 || offset + length > elf.Length)
            {
                throw new InvalidDataException(what + " at offset " + offset + " lies outside the file (" + elf.Length + " bytes)");
            }
        }

        private static ushort U16(byte[] b, long o) => (ushort)(b[o] | (b[o + 1] << 8));

        private static uint U32(byte[] b, long o) => (uint)(b[o] | (b[o + 1] << 8) | (b[o + 2] << 16) | (b[o + 3] << 24));

        private static ulong U64(byte[] b, long o) => U32(b, o) | ((ulong)U32(b, o + 4) << 32);

        private static string CString(byte[] b, long o)
        {
            Check(b, o, 1, "string");
            long end = o;
            while (end < b.Length && b[end] != 0)
            {
                end++;
            }

            return Encoding.ASCII.GetString(b, (int)o, (int)(end - o));
        }
    }

#if !HEADTRACKER_NO_MSBUILD
    /// <summary>MSBuild task: marks GLIBCXX_3.4.32 weak in each file when the system lacks it.</summary>
    public sealed class PatchGlibcxxWeak : Microsoft.Build.Utilities.Task
    {
        [Microsoft.Build.Framework.Required]
        public Microsoft.Build.Framework.ITaskItem[] Files { get; set; } = Array.Empty<Microsoft.Build.Framework.ITaskItem>();

        public string Version { get; set; } = "GLIBCXX_3.4.32";

        public override bool Execute()
        {
            string? libstdcxx = ElfVersionNeeds.FindSystemLibStdCxx();
            if (libstdcxx != null && ElfVersionNeeds.Defines(System.IO.File.ReadAllBytes(libstdcxx), Version))
            {
                Log.LogMessage(Microsoft.Build.Framework.MessageImportance.Low, libstdcxx + " provides " + Version + "; nothing to patch.");
                return true;
            }

            foreach (Microsoft.Build.Framework.ITaskItem item in Files)
            {
                string path = item.GetMetadata("FullPath");
                try
                {
                    if (ElfVersionNeeds.PatchFile(path, Version))
                    {
                        Log.LogMessage(Microsoft.Build.Framework.MessageImportance.High,
                            "HeadTracker: marked " + Version + " weak in " + path + " (system libstdc++ lacks it).");
                    }
                }
                catch (Exception e) when (e is IOException || e is InvalidDataException || e is UnauthorizedAccessException)
                {
                    Log.LogError("HeadTracker: cannot patch " + path + ": " + e.Message);
                }
            }

            return !Log.HasLoggedErrors;
        }
    }
#endif
}
