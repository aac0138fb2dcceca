using System;
using System.IO;
using System.Linq;
using OpenCvSharp;

namespace HeadTracking.Runtime.Capture;

/// <summary>The images of a folder (jpg, jpeg, png, bmp) in name order, optionally looping. Decodes
/// one image per <see cref="Read"/>: meant for tests and demos, not for frame-rate capture.</summary>
internal sealed class ImageFolderSource : IFrameSource
{
    private static readonly string[] s_extensions = [".jpg", ".jpeg", ".png", ".bmp"];
    private readonly string[] _files;
    private readonly bool _loop;
    private int _next;

    /// <exception cref="DirectoryNotFoundException">No folder at <paramref name="folder"/>.</exception>
    /// <exception cref="InvalidDataException">The folder holds no images.</exception>
    public ImageFolderSource(string folder, bool loop = false)
    {
        if (!Directory.Exists(folder))
        {
            throw new DirectoryNotFoundException($"image folder not found: {folder}");
        }

        _files = Directory.GetFiles(folder)
            .Where(f => s_extensions.Contains(Path.GetExtension(f).ToLowerInvariant()))
            .OrderBy(f => f, StringComparer.Ordinal)
            .ToArray();
        if (_files.Length == 0)
        {
            throw new InvalidDataException($"{folder}: no .jpg, .jpeg, .png or .bmp images");
        }

        _loop = loop;
        Description = $"{_files.Length} images in {folder}";
    }

    public bool Live => false;

    public string Description { get; }

    /// <summary>How many images the folder holds.</summary>
    public int Count => _files.Length;

    public bool Read(Mat frame)
    {
        if (_next == _files.Length)
        {
            if (!_loop)
            {
                return false;
            }

            _next = 0;
        }

        string file = _files[_next++];
        using Mat image = Cv2.ImRead(file, ImreadModes.Color);
        if (image.Empty())
        {
            throw new InvalidDataException($"{file}: not an image OpenCV can decode");
        }

        image.CopyTo(frame);
        return true;
    }

    public void Dispose()
    {
    }
}
